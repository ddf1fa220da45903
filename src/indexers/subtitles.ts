// Stage "subtitles": the video's own subtitles as searchable cues: sidecar files beside it and
// embedded text streams. A file or stream that cannot be read is skipped with a warning; the
// stage never fails the job for a subtitle. Each cue belongs to the segment it starts in.
import path from 'node:path';
import type { CueRecord, SegmentRecord } from '../domain.js';
import { errorMessage } from '../errors.js';
import type { MediaProbe } from '../media/probe.js';
import { extractSubtitleStream, isImageSubtitleCodec } from '../media/subtitles.js';
import { findSidecars, parseSubtitleText, readSidecar, type ParsedCue } from './subtitle-files.js';
import type { Stage } from './stage.js';

export interface SubtitlesOutput {
  cues: number;
  tracks: { source: 'SIDECAR' | 'EMBEDDED'; name: string; lang: string | null; cues: number }[];
  skipped: { name: string; reason: string }[];
}

/** The segment a time falls in (before the first → first, after the last → last). */
export function segmentFor(segments: readonly SegmentRecord[], time: number): SegmentRecord | null {
  if (segments.length === 0) return null;
  let lo = 0;
  let hi = segments.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (segments[mid]!.start <= time) lo = mid;
    else hi = mid - 1;
  }
  return segments[lo]!;
}

function toCueRecords(
  videoId: string,
  trackKey: string,
  cues: readonly ParsedCue[],
  source: 'SIDECAR' | 'EMBEDDED',
  lang: string | null,
  segments: readonly SegmentRecord[],
): CueRecord[] {
  return cues.map((cue, i) => ({
    id: `${videoId}:cue:${trackKey}:${i}`,
    videoId,
    segmentId: segmentFor(segments, cue.start)?.id ?? null,
    start: cue.start,
    end: cue.end,
    text: cue.text,
    kind: 'SUBTITLE',
    source,
    lang,
  }));
}

export const subtitlesStage: Stage<{ probe: MediaProbe; segments: SegmentRecord[] }, SubtitlesOutput> & { name: 'subtitles' } = {
  name: 'subtitles',
  weight: 0.3,
  needs: ['probe', 'segments'],
  async run(ctx, { probe, segments }) {
    const { video, log } = ctx;
    const all: CueRecord[] = [];
    const output: SubtitlesOutput = { cues: 0, tracks: [], skipped: [] };
    const skip = (name: string, reason: string): void => {
      output.skipped.push({ name, reason });
      log.warn({ subtitle: name, reason }, 'subtitle track skipped');
    };

    const sidecars = await findSidecars(video.path);
    for (const [n, file] of sidecars.entries()) {
      const name = path.basename(file.path);
      try {
        const { cues, encoding, errors } = await readSidecar(file);
        if (cues.length === 0) {
          skip(name, errors > 0 ? `unreadable ${file.format} (${errors} parse errors)` : 'no cues');
          continue;
        }
        all.push(...toCueRecords(video.id, `sc${n}`, cues, 'SIDECAR', file.lang, segments));
        output.tracks.push({ source: 'SIDECAR', name, lang: file.lang, cues: cues.length });
        log.info({ subtitle: name, encoding, cues: cues.length }, 'sidecar subtitles read');
      } catch (err) {
        skip(name, errorMessage(err));
      }
    }

    for (const stream of probe.subtitleStreams) {
      const name = `stream ${stream.index} (${stream.codec}${stream.lang ? `, ${stream.lang}` : ''})`;
      if (ctx.signal.aborted) break;
      if (isImageSubtitleCodec(stream.codec)) {
        skip(name, 'picture-based subtitles cannot be read as text');
        continue;
      }
      try {
        const srt = await extractSubtitleStream(ctx.media, video.path, stream.index, { signal: ctx.signal });
        const { cues } = await parseSubtitleText(srt, 'srt');
        if (cues.length === 0) {
          skip(name, 'no cues');
          continue;
        }
        all.push(...toCueRecords(video.id, `em${stream.index}`, cues, 'EMBEDDED', stream.lang, segments));
        output.tracks.push({ source: 'EMBEDDED', name, lang: stream.lang, cues: cues.length });
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        skip(name, errorMessage(err));
      }
    }

    await ctx.store.catalog.replaceCues(video.id, ['SIDECAR', 'EMBEDDED'], all);
    output.cues = all.length;
    return output;
  },
};
