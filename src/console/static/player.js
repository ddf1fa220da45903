// The player panel: an HTML5 <video> on the signed stream URL (the server answers range
// requests, so seeking loads only what it needs), a playlist of spans played in turn, a timeline
// bar of those spans with the playhead, and clip export of the span being played.
import { describeError, gql } from './api.js';
import { fill, formatBytes, formatTime, h, parseTime, videoLabel } from './dom.js';

const EXPORT_CLIP = `mutation($videoId: ID!, $start: Float!, $end: Float!) {
  exportClip(videoId: $videoId, start: $start, end: $end) { id start end method sizeBytes downloadUrl }
}`;

/** Within this much of a span's end the next span starts (timeupdate fires ~4 times a second). */
const SPAN_END_SLACK = 0.05;

/**
 * @typedef {{ id: string, title?: string | null, series?: string | null, season?: number | null,
 *   episode?: number | null, durationSec: number, streamUrl: string }} PlayableVideo
 * @typedef {{ start: number, end: number }} PlaySpan
 */

export class Player {
  /** @param {HTMLElement} root */
  constructor(root) {
    this.video = /** @type {HTMLVideoElement} */ (h('video', { controls: true, preload: 'metadata', playsInline: true, class: 'player-video' }));
    this.title = h('div', { class: 'player-title' }, 'Nothing playing: pick a result, a match or an actor.');
    this.spanLabel = h('div', { class: 'player-span muted' });
    this.track = h('div', { class: 'timeline-track' });
    this.playhead = h('div', { class: 'timeline-playhead' });
    this.timeline = h('div', { class: 'timeline', title: 'Click to seek', onclick: (e) => this.seekFromTimeline(e) }, this.track, this.playhead);
    this.exportStart = /** @type {HTMLInputElement} */ (h('input', { class: 'time-input', name: 'clipStart', placeholder: 'start', 'aria-label': 'Clip start' }));
    this.exportEnd = /** @type {HTMLInputElement} */ (h('input', { class: 'time-input', name: 'clipEnd', placeholder: 'end', 'aria-label': 'Clip end' }));
    this.exportButton = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', disabled: true }, 'Export MP4'));
    this.exportResult = h('div', { class: 'export-result', 'aria-live': 'polite' });
    const exportForm = h(
      'form',
      { class: 'export-form', onsubmit: (e) => { e.preventDefault(); void this.exportClip(); } },
      h('span', { class: 'label' }, 'Clip'),
      this.exportStart,
      h('span', { class: 'muted' }, '→'),
      this.exportEnd,
      this.exportButton,
    );
    fill(root, h('div', { class: 'player-frame' }, this.video), this.title, this.spanLabel, this.timeline, exportForm, this.exportResult);

    /** @type {PlayableVideo | null} */
    this.current = null;
    /** @type {PlaySpan[]} */
    this.spans = [];
    this.spanIndex = -1;
    this.video.addEventListener('timeupdate', () => this.onTime());
    this.video.addEventListener('seeking', () => this.drawPlayhead());
  }

  /**
   * Plays the spans in order and stops after the last one.
   * @param {PlayableVideo} video
   * @param {PlaySpan[]} spans
   * @param {string} label what is being played, for the panel
   */
  async playSpans(video, spans, label) {
    this.spans = spans.filter((s) => s.end > s.start).sort((a, b) => a.start - b.start);
    this.spanIndex = this.spans.length ? 0 : -1;
    this.title.textContent = videoLabel(video);
    this.spanLabel.textContent = label;
    fill(this.exportResult);
    await this.load(video);
    this.drawSpans();
    const first = this.spans[0];
    if (first) {
      this.exportStart.value = formatTime(first.start);
      this.exportEnd.value = formatTime(this.spans.length === 1 ? first.end : this.spans.at(-1).end);
      this.video.currentTime = first.start;
    }
    this.exportButton.disabled = false;
    // Autoplay may be refused (no user gesture yet): the position is set either way.
    await this.video.play().catch(() => undefined);
  }

  /** @param {PlayableVideo} video */
  async load(video) {
    if (this.current?.id === video.id && this.video.readyState >= 1) return;
    this.current = video;
    this.video.src = video.streamUrl;
    await new Promise((resolve, reject) => {
      const done = () => {
        this.video.removeEventListener('loadedmetadata', done);
        this.video.removeEventListener('error', failed);
        resolve(undefined);
      };
      const failed = () => {
        this.video.removeEventListener('loadedmetadata', done);
        this.video.removeEventListener('error', failed);
        reject(new Error(`the video could not be loaded (${this.video.error?.message || `media error ${this.video.error?.code ?? '?'}`})`));
      };
      this.video.addEventListener('loadedmetadata', done);
      this.video.addEventListener('error', failed);
    });
  }

  onTime() {
    this.drawPlayhead();
    const span = this.spans[this.spanIndex];
    if (!span || this.video.paused) return;
    const t = this.video.currentTime;
    if (t < span.end - SPAN_END_SLACK) {
      // The editor dragged the seek bar into another span: follow it.
      const inside = this.spans.findIndex((s) => t >= s.start && t < s.end);
      if (inside >= 0) this.spanIndex = inside;
      return;
    }
    const next = this.spans[this.spanIndex + 1];
    if (next) {
      this.spanIndex += 1;
      this.video.currentTime = next.start;
    } else {
      this.video.pause();
    }
    this.drawSpans();
  }

  duration() {
    return this.current?.durationSec || this.video.duration || 0;
  }

  drawSpans() {
    const duration = this.duration();
    fill(
      this.track,
      this.spans.map((span, i) =>
        h('div', {
          class: i === this.spanIndex ? 'timeline-span active' : 'timeline-span',
          title: `${formatTime(span.start)} – ${formatTime(span.end)}`,
          css: duration ? { left: `${(span.start / duration) * 100}%`, width: `${Math.max(0.4, ((span.end - span.start) / duration) * 100)}%` } : null,
        }),
      ),
    );
    this.drawPlayhead();
  }

  drawPlayhead() {
    const duration = this.duration();
    this.playhead.style.left = duration ? `${Math.min(100, (this.video.currentTime / duration) * 100)}%` : '0';
  }

  /** @param {MouseEvent} event */
  seekFromTimeline(event) {
    const duration = this.duration();
    if (!duration || !this.current) return;
    const box = this.timeline.getBoundingClientRect();
    this.video.currentTime = Math.max(0, Math.min(duration, ((event.clientX - box.left) / box.width) * duration));
  }

  async exportClip() {
    if (!this.current) return;
    const start = parseTime(this.exportStart.value);
    const end = parseTime(this.exportEnd.value);
    if (start === null || end === null || Number.isNaN(start) || Number.isNaN(end)) {
      fill(this.exportResult, h('span', { class: 'error' }, 'Give the start and end as seconds or m:ss.s'));
      return;
    }
    this.exportButton.disabled = true;
    fill(this.exportResult, h('span', { class: 'muted' }, 'Cutting…'));
    try {
      const { exportClip: clip } = await gql(EXPORT_CLIP, { videoId: this.current.id, start, end });
      const how = clip.method === 'STREAM_COPY' ? 'stream copy' : 're-encoded';
      fill(
        this.exportResult,
        h('a', { href: clip.downloadUrl, download: '', class: 'download-link' }, `Download ${formatTime(clip.start)}–${formatTime(clip.end)}`),
        h('span', { class: 'muted' }, ` ${formatBytes(clip.sizeBytes)}, ${how}`),
      );
    } catch (err) {
      fill(this.exportResult, h('span', { class: 'error' }, describeError(err)));
    } finally {
      this.exportButton.disabled = false;
    }
  }
}
