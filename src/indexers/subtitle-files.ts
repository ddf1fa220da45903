// Subtitle text from files: finding sidecars beside a video, decoding whatever encoding they were
// saved in (UTF-8 with or without BOM, UTF-16, GBK/GB18030, …) and parsing SRT, WebVTT and
// SSA/ASS into plain-text cues.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import chardet from 'chardet';
import iconv from 'iconv-lite';
import * as mediaCaptions from 'media-captions';

// media-captions' .d.ts re-exports without file extensions, which NodeNext resolution cannot
// follow; this is the slice of its API we use, typed here.
type CaptionsFileFormat = 'srt' | 'vtt' | 'ssa' | 'ass';
interface CaptionsParser {
  parseText(
    text: string,
    options: { type: CaptionsFileFormat; errors?: boolean },
  ): Promise<{ cues: { startTime: number; endTime: number; text: string }[]; errors: unknown[] }>;
}
const { parseText } = mediaCaptions as unknown as CaptionsParser;

export interface SidecarFile {
  path: string;
  format: CaptionsFileFormat;
  /** From `<base>.<lang>.srt`; null for `<base>.srt`. */
  lang: string | null;
}

export interface ParsedCue {
  start: number;
  end: number;
  text: string;
}

const FORMAT_BY_EXTENSION: Record<string, CaptionsFileFormat> = { '.srt': 'srt', '.vtt': 'vtt', '.ass': 'ass', '.ssa': 'ssa' };
const LANG_TAG = /^[a-z]{2,3}(?:[-_][a-z0-9]{2,8})*$/i;

/** `<base>.srt|.vtt|.ass|.ssa` and `<base>.<lang>.srt|…` beside the video, in name order. */
export async function findSidecars(videoPath: string): Promise<SidecarFile[]> {
  const dir = path.dirname(videoPath);
  const base = path.parse(videoPath).name;
  const names = await readdir(dir).catch(() => [] as string[]);
  const found: SidecarFile[] = [];
  for (const name of names.sort()) {
    const ext = path.extname(name).toLowerCase();
    const format = FORMAT_BY_EXTENSION[ext];
    if (!format || !name.startsWith(`${base}.`)) continue;
    const middle = name.slice(base.length + 1, name.length - ext.length);
    if (middle === '') found.push({ path: path.join(dir, name), format, lang: null });
    else if (LANG_TAG.test(middle)) found.push({ path: path.join(dir, name), format, lang: middle });
  }
  return found;
}

/** Bytes → text: BOMs first, then strict UTF-8, then the detected legacy encoding. */
export function decodeSubtitleBytes(bytes: Buffer): { text: string; encoding: string } {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { text: bytes.subarray(3).toString('utf8'), encoding: 'UTF-8' };
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return { text: iconv.decode(bytes.subarray(2), 'utf16le'), encoding: 'UTF-16LE' };
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return { text: iconv.decode(bytes.subarray(2), 'utf16be'), encoding: 'UTF-16BE' };
  const detected = chardet.detect(bytes);
  // Timestamps are ASCII: UTF-16 without a BOM shows up as every other byte zero.
  if (detected && /^UTF-16/i.test(detected) && iconv.encodingExists(detected)) return { text: iconv.decode(bytes, detected), encoding: detected };
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), encoding: 'UTF-8' };
  } catch {
    // Not UTF-8: a legacy code page. Chinese GBK/GB2312 text is read as GB18030, its superset.
    const legacy = detected && iconv.encodingExists(detected) ? detected : 'GB18030';
    const encoding = /^(GB2312|GBK)$/i.test(legacy) ? 'GB18030' : legacy;
    return { text: iconv.decode(bytes, encoding), encoding };
  }
}

/** Plain text of a cue: markup (<i>, <font>, <v Name>, {\an8}) removed, ASS line breaks kept. */
export function cleanCueText(raw: string): string {
  return raw
    .replace(/\{\\[^}]*\}/g, '')
    .replace(/\\[Nn]/g, '\n')
    .replace(/\\h/g, ' ')
    .replace(/<[^>]*>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .split('\n')
    .map((line) => line.replace(/[ \t]+/g, ' ').trim())
    .filter(Boolean)
    .join('\n');
}

/** Parses subtitle text; cues with no text or no duration are dropped. */
export async function parseSubtitleText(text: string, format: CaptionsFileFormat): Promise<{ cues: ParsedCue[]; errors: number }> {
  const result = await parseText(text.replace(/^\uFEFF/, ''), { type: format, errors: true });
  const cues: ParsedCue[] = [];
  for (const cue of result.cues) {
    const clean = cleanCueText(cue.text);
    if (!clean || !(cue.endTime > cue.startTime) || cue.startTime < 0) continue;
    cues.push({ start: cue.startTime, end: cue.endTime, text: clean });
  }
  return { cues: cues.sort((a, b) => a.start - b.start), errors: result.errors.length };
}

export async function readSidecar(file: SidecarFile): Promise<{ cues: ParsedCue[]; encoding: string; errors: number }> {
  const { text, encoding } = decodeSubtitleBytes(await readFile(file.path));
  return { ...(await parseSubtitleText(text, file.format)), encoding };
}
