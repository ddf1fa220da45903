// Stage "text": everything searchable as text goes into the text index in one replace: every cue
// stored for the video (subtitles, OCR lines, …) and one METADATA document on the first segment
// carrying the title and series, so a title search finds the video.
import type { CueRecord, SegmentRecord, VideoRecord } from '../domain.js';
import type { TextDocument } from '../store/interfaces.js';
import type { Stage } from './stage.js';
import { segmentFor } from './subtitles.js';

export interface TextOutput {
  documents: number;
}

export function metadataText(video: Pick<VideoRecord, 'title' | 'series' | 'season' | 'episode'>): string {
  const episode =
    video.season !== null || video.episode !== null
      ? [video.season !== null ? `S${String(video.season).padStart(2, '0')}` : '', video.episode !== null ? `E${String(video.episode).padStart(2, '0')}` : ''].join('')
      : '';
  return [video.title, video.series, episode].filter((part): part is string => Boolean(part && part.trim())).join(' · ');
}

export function buildTextDocuments(video: VideoRecord, segments: readonly SegmentRecord[], cues: readonly CueRecord[]): TextDocument[] {
  if (segments.length === 0) return [];
  const docs: TextDocument[] = cues.map((cue) => ({
    id: cue.id,
    videoId: video.id,
    segmentId: cue.segmentId ?? segmentFor(segments, cue.start)!.id,
    cueId: cue.id,
    kind: cue.kind,
    start: cue.start,
    end: cue.end,
    text: cue.text,
    series: video.series,
  }));
  const meta = metadataText(video);
  if (meta) {
    const first = segments[0]!;
    docs.push({ id: `${video.id}:meta`, videoId: video.id, segmentId: first.id, cueId: null, kind: 'METADATA', start: first.start, end: first.end, text: meta, series: video.series });
  }
  return docs;
}

export const textStage: Stage<{ segments: SegmentRecord[] }, TextOutput> & { name: 'text' } = {
  name: 'text',
  weight: 0.2,
  needs: ['segments', 'subtitles'],
  // Indexes every stored cue, OCR's included.
  after: ['ocr'],
  async run(ctx, { segments }) {
    // Read back every cue kind: OCR and later cue stages land here without changing this stage.
    const cues = await ctx.store.catalog.getCues(ctx.video.id);
    const docs = buildTextDocuments(ctx.video, segments, cues);
    await ctx.store.text.replaceVideo(ctx.video.id, docs);
    return { documents: docs.length };
  },
};
