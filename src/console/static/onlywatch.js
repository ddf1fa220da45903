// Only-watch-TA (只看TA): pick a video and actors, see each actor's timeline bar, and play only
// the spans where they appear (the onlyWatch playlist, played back to back).
import { describeError, gql } from './api.js';
import { fill, formatTime, h, videoLabel } from './dom.js';

const TIMELINE = `query($videoId: ID!) {
  actorTimeline(videoId: $videoId) { actorId totalSec actor { id name thumbnailUrl } spans { start end } }
}`;

const ONLY_WATCH = `query($videoId: ID!, $actorIds: [ID!]!, $mode: OnlyWatchMode!, $padSec: Float!) {
  onlyWatch(videoId: $videoId, actorIds: $actorIds, mode: $mode, padSec: $padSec) { totalSec share playlist }
}`;

export class OnlyWatchView {
  /**
   * @param {HTMLElement} root
   * @param {{ player: import('./player.js').Player, status: (text: string, isError?: boolean) => void, videos: () => Promise<any[]> }} deps
   */
  constructor(root, deps) {
    this.deps = deps;
    this.videoSelect = /** @type {HTMLSelectElement} */ (h('select', { name: 'onlyWatchVideo', onchange: () => void this.loadTimeline() }));
    this.mode = /** @type {HTMLSelectElement} */ (h('select', { name: 'mode' }, h('option', { value: 'ANY' }, 'any of them'), h('option', { value: 'ALL' }, 'all together')));
    this.pad = /** @type {HTMLInputElement} */ (h('input', { name: 'padSec', type: 'number', min: '0', max: '10', step: '0.5', value: '0', class: 'time-input' }));
    this.actorsBox = h('div', { class: 'actor-rows', id: 'actor-rows' });
    this.summary = h('div', { class: 'summary muted', 'aria-live': 'polite' });
    this.playButton = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', disabled: true }, 'Play only their spans'));
    const form = h(
      'form',
      { class: 'onlywatch-form', onsubmit: (e) => { e.preventDefault(); void this.play(); } },
      h('label', { class: 'field wide' }, h('span', null, 'Video'), this.videoSelect),
      h('div', { class: 'filters' },
        h('label', { class: 'field' }, h('span', null, 'Present'), this.mode),
        h('label', { class: 'field' }, h('span', null, 'Pad (s)'), this.pad),
        this.playButton,
      ),
    );
    fill(root, form, this.actorsBox, this.summary);
    /** @type {any} */
    this.videosById = new Map();
  }

  async refreshVideos() {
    const videos = await this.deps.videos();
    const chosen = this.videoSelect.value;
    this.videosById = new Map(videos.map((v) => [v.id, v]));
    fill(this.videoSelect, h('option', { value: '' }, videos.length ? 'Choose a video…' : 'No indexed videos yet'), videos.map((v) => h('option', { value: v.id, selected: v.id === chosen }, videoLabel(v))));
    if (chosen && this.videosById.has(chosen)) await this.loadTimeline();
  }

  selectedActors() {
    return [...this.actorsBox.querySelectorAll('input[name="actor"]:checked')].map((input) => /** @type {HTMLInputElement} */ (input).value);
  }

  async loadTimeline() {
    const video = this.videosById.get(this.videoSelect.value);
    fill(this.actorsBox);
    this.summary.textContent = '';
    this.playButton.disabled = true;
    if (!video) return;
    try {
      const { actorTimeline } = await gql(TIMELINE, { videoId: video.id });
      if (!actorTimeline.length) {
        this.summary.textContent = 'Nobody known appears in this video yet: name face clusters on the Faces tab.';
        return;
      }
      fill(this.actorsBox, actorTimeline.map((row) => this.actorRow(video, row)));
      this.playButton.disabled = false;
    } catch (err) {
      this.deps.status(describeError(err), true);
    }
  }

  actorRow(video, row) {
    const duration = video.durationSec || 1;
    return h(
      'label',
      { class: 'actor-row' },
      h('input', { type: 'checkbox', name: 'actor', value: row.actorId, checked: true }),
      row.actor.thumbnailUrl ? h('img', { class: 'avatar', src: row.actor.thumbnailUrl, alt: '' }) : h('span', { class: 'avatar empty' }, row.actor.name.slice(0, 1)),
      h('span', { class: 'actor-name' }, row.actor.name, h('span', { class: 'muted' }, ` ${formatTime(row.totalSec)} on screen`)),
      h(
        'div',
        { class: 'timeline small' },
        h('div', { class: 'timeline-track' },
          row.spans.map((s) => h('div', { class: 'timeline-span', title: `${formatTime(s.start)} – ${formatTime(s.end)}`, css: { left: `${(s.start / duration) * 100}%`, width: `${Math.max(0.4, ((s.end - s.start) / duration) * 100)}%` } })),
        ),
      ),
    );
  }

  async play() {
    const video = this.videosById.get(this.videoSelect.value);
    const actorIds = this.selectedActors();
    if (!video || !actorIds.length) {
      this.deps.status('Choose a video and at least one actor', true);
      return;
    }
    try {
      const { onlyWatch } = await gql(ONLY_WATCH, { videoId: video.id, actorIds, mode: this.mode.value, padSec: Number(this.pad.value) || 0 });
      this.summary.textContent = `${onlyWatch.playlist.length} span${onlyWatch.playlist.length === 1 ? '' : 's'}, ${formatTime(onlyWatch.totalSec)} (${Math.round(onlyWatch.share * 100)}% of the video)`;
      if (!onlyWatch.playlist.length) return;
      const names = [...this.actorsBox.querySelectorAll('input[name="actor"]:checked')].map((input) => input.closest('.actor-row')?.querySelector('.actor-name')?.firstChild?.textContent).join(this.mode.value === 'ALL' ? ' & ' : ' / ');
      await this.deps.player.playSpans(video, onlyWatch.playlist.map(([start, end]) => ({ start, end })), `Only ${names}: ${this.summary.textContent}`);
    } catch (err) {
      this.deps.status(describeError(err), true);
    }
  }
}
