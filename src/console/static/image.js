// Search by screenshot: drop, paste or pick a picture; it goes up as a GraphQL multipart upload
// (searchByImage(image: Upload)) and the best matches come back with their similarity.
import { describeError, gqlUpload } from './api.js';
import { fill, formatTime, h, videoLabel } from './dom.js';

const SEARCH_BY_IMAGE = `query($image: Upload, $filter: ImageMatchFilter, $first: Int) {
  searchByImage(image: $image, filter: $filter, first: $first) {
    from to at similarity thumbnailUrl
    video { id title series season episode durationSec streamUrl }
  }
}`;

const MATCHES = 12;

export class ImageView {
  /**
   * @param {HTMLElement} root
   * @param {{ player: import('./player.js').Player, status: (text: string, isError?: boolean) => void }} deps
   */
  constructor(root, deps) {
    this.deps = deps;
    this.fileInput = /** @type {HTMLInputElement} */ (h('input', { type: 'file', accept: 'image/*', name: 'screenshot', class: 'visually-hidden', onchange: () => this.fileInput.files?.[0] && void this.search(this.fileInput.files[0]) }));
    this.preview = /** @type {HTMLImageElement} */ (h('img', { class: 'drop-preview', alt: '', hidden: true }));
    this.series = /** @type {HTMLInputElement} */ (h('input', { name: 'imageSeries', placeholder: 'any series', list: 'series-list' }));
    this.drop = h(
      'div',
      { class: 'dropzone', id: 'image-drop', tabindex: '0', role: 'button', 'aria-label': 'Drop a screenshot here, or choose a file', onclick: () => this.fileInput.click(), onkeydown: (e) => (e.key === 'Enter' || e.key === ' ') && this.fileInput.click() },
      this.preview,
      h('div', { class: 'drop-text' }, h('strong', null, 'Drop a screenshot'), h('span', { class: 'muted' }, 'or click to choose one, or paste it (Ctrl+V)')),
      this.fileInput,
    );
    this.drop.addEventListener('dragover', (e) => {
      e.preventDefault();
      this.drop.classList.add('over');
    });
    this.drop.addEventListener('dragleave', () => this.drop.classList.remove('over'));
    this.drop.addEventListener('drop', (e) => {
      e.preventDefault();
      this.drop.classList.remove('over');
      const file = [...(e.dataTransfer?.files ?? [])].find((f) => f.type.startsWith('image/'));
      if (file) void this.search(file);
      else deps.status('Drop a picture file (JPEG, PNG or WebP)', true);
    });
    this.summary = h('div', { class: 'summary muted', 'aria-live': 'polite' });
    this.results = h('div', { class: 'matches', id: 'image-results' });
    fill(root, h('div', { class: 'image-top' }, this.drop, h('label', { class: 'field' }, h('span', null, 'Series'), this.series)), this.summary, this.results);
  }

  /** Paste anywhere while this view is shown. @param {ClipboardEvent} event */
  onPaste(event) {
    const file = [...(event.clipboardData?.files ?? [])].find((f) => f.type.startsWith('image/'));
    if (file) void this.search(file);
  }

  /** @param {File} file */
  async search(file) {
    if (this.preview.src) URL.revokeObjectURL(this.preview.src);
    this.preview.src = URL.createObjectURL(file);
    this.preview.hidden = false;
    this.summary.textContent = 'Searching…';
    fill(this.results);
    const series = this.series.value.trim();
    try {
      const { searchByImage: matches } = await gqlUpload(SEARCH_BY_IMAGE, { filter: series ? { series } : null, first: MATCHES }, { image: file });
      this.summary.textContent = matches.length ? `${matches.length} best matches for ${file.name || 'the pasted picture'}` : 'No indexed video looks like this picture.';
      fill(this.results, matches.map((match, rank) => this.row(match, rank)));
    } catch (err) {
      this.summary.textContent = '';
      this.deps.status(describeError(err), true);
    }
  }

  row(match, rank) {
    const percent = Math.round(match.similarity * 100);
    const confidence = match.similarity >= 0.9 ? 'sure' : match.similarity >= 0.5 ? 'likely' : 'guess';
    const play = () =>
      this.deps.player
        .playSpans(match.video, [{ start: match.from, end: Math.max(match.to, match.from + 1) }], `Image match at ${formatTime(match.at)} (${percent}%)`)
        .catch((err) => this.deps.status(describeError(err), true));
    return h(
      'button',
      { type: 'button', class: 'match', onclick: play, dataset: { similarity: String(match.similarity) } },
      h('span', { class: 'rank' }, String(rank + 1)),
      h('div', { class: 'thumb small' }, match.thumbnailUrl ? h('img', { src: match.thumbnailUrl, alt: '', loading: 'lazy' }) : null),
      h('div', { class: 'card-body' },
        h('div', { class: 'card-title' }, videoLabel(match.video)),
        h('div', { class: 'meta muted' }, match.to > match.from ? `at ${formatTime(match.at)} · looks alike ${formatTime(match.from)}–${formatTime(match.to)}` : `at ${formatTime(match.at)}`),
        h('div', { class: `similarity ${confidence}` }, h('div', { class: 'bar' }, h('div', { class: 'fill', css: { width: `${percent}%` } })), h('span', null, `${percent}% ${confidence}`)),
      ),
    );
  }
}
