// Search over dialogue, subtitles and on-screen text. Series, time and text-kind filters go to the
// server; the actor filter narrows the search to the actor's videos on the server and keeps the
// hits that overlap one of their appearances; the object filter keeps hits whose segment carries
// a detected object of that label. Results are keyframe cards; a click plays the segment.
import { describeError, gql } from './api.js';
import { fill, formatTime, h, parseTime, snippetNodes, videoLabel } from './dom.js';

const VIDEO_FIELDS = 'id title series season episode durationSec streamUrl';

const SEARCH = `query($query: String!, $filter: SegmentFilter, $first: Int, $after: String) {
  searchSegments(query: $query, filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      score snippet
      cue { start end text kind }
      segment { id start end thumbnailUrl tags { kind label labelZh } }
      video { ${VIDEO_FIELDS} }
    } }
  }
}`;

const APPEARANCES = `query($actorId: ID!, $after: String) {
  appearances(actorId: $actorId, first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { videoId start end } }
  }
}`;

/** Hits read per page; more when a filter drops hits on this side. */
const PAGE_SIZE = 24;
const FILTERED_PAGE_SIZE = 100;
/** Appearance pages read for the actor filter at most (100 each). */
const MAX_APPEARANCE_PAGES = 10;

export class SearchView {
  /**
   * @param {HTMLElement} root
   * @param {{ player: import('./player.js').Player, status: (text: string, isError?: boolean) => void, actors: () => Promise<{ id: string, name: string }[]> }} deps
   */
  constructor(root, deps) {
    this.deps = deps;
    const field = (label, input) => h('label', { class: 'field' }, h('span', null, label), input);
    this.query = /** @type {HTMLInputElement} */ (h('input', { type: 'search', name: 'query', placeholder: 'Words said or shown: 天气, walk in the park…', required: true, autocomplete: 'off' }));
    this.series = /** @type {HTMLInputElement} */ (h('input', { name: 'series', placeholder: 'any', list: 'series-list' }));
    this.actor = /** @type {HTMLSelectElement} */ (h('select', { name: 'actor' }, h('option', { value: '' }, 'anyone')));
    this.object = /** @type {HTMLInputElement} */ (h('input', { name: 'object', placeholder: 'e.g. cup, 杯子' }));
    this.from = /** @type {HTMLInputElement} */ (h('input', { name: 'from', class: 'time-input', placeholder: '0:00' }));
    this.to = /** @type {HTMLInputElement} */ (h('input', { name: 'to', class: 'time-input', placeholder: 'end' }));
    this.kinds = [
      ['SUBTITLE', 'Subtitles'],
      ['ON_SCREEN_TEXT', 'On-screen text'],
      ['METADATA', 'Titles'],
    ].map(([value, label]) => /** @type {[HTMLInputElement, string]} */ ([h('input', { type: 'checkbox', name: 'kind', value, checked: true }), label]));
    this.summary = h('div', { class: 'summary muted', 'aria-live': 'polite' });
    this.results = h('div', { class: 'cards', id: 'search-results' });
    this.more = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', class: 'secondary', hidden: true, onclick: () => void this.run(true) }, 'More results'));
    const form = h(
      'form',
      { class: 'search-form', onsubmit: (e) => { e.preventDefault(); void this.run(false); } },
      h('div', { class: 'search-row' }, this.query, h('button', { type: 'submit' }, 'Search')),
      h(
        'div',
        { class: 'filters' },
        field('Series', this.series),
        field('Actor', this.actor),
        field('Object', this.object),
        field('From', this.from),
        field('To', this.to),
        h('fieldset', { class: 'kinds' }, h('legend', null, 'Match in'), this.kinds.map(([input, label]) => h('label', { class: 'check' }, input, label))),
      ),
    );
    fill(root, form, this.summary, this.results, this.more);
    /** @type {string | null} */
    this.after = null;
  }

  async refreshActors() {
    const actors = await this.deps.actors();
    const chosen = this.actor.value;
    fill(this.actor, h('option', { value: '' }, 'anyone'), actors.map((a) => h('option', { value: a.id, selected: a.id === chosen }, a.name)));
  }

  /** @returns {Promise<Map<string, {start: number, end: number}[]>>} the actor's appearances by video */
  async actorSpans(actorId) {
    const byVideo = new Map();
    let after = null;
    for (let page = 0; page < MAX_APPEARANCE_PAGES; page += 1) {
      const { appearances } = await gql(APPEARANCES, { actorId, after });
      for (const { node } of appearances.edges) {
        if (!byVideo.has(node.videoId)) byVideo.set(node.videoId, []);
        byVideo.get(node.videoId).push({ start: node.start, end: node.end });
      }
      if (!appearances.pageInfo.hasNextPage) break;
      after = appearances.pageInfo.endCursor;
    }
    return byVideo;
  }

  /** @param {boolean} nextPage */
  async run(nextPage) {
    const query = this.query.value.trim();
    if (!query) return;
    const from = parseTime(this.from.value);
    const to = parseTime(this.to.value);
    if (Number.isNaN(from) || Number.isNaN(to)) {
      this.deps.status('Times are seconds or m:ss (e.g. 1:30)', true);
      return;
    }
    const kinds = this.kinds.filter(([input]) => input.checked).map(([input]) => input.value);
    const objectLabel = this.object.value.trim().toLowerCase();
    const actorId = this.actor.value;
    /** @type {Record<string, unknown>} */
    const filter = { series: this.series.value.trim() || null, from, to, kinds: kinds.length ? kinds : null };
    if (!nextPage) {
      this.after = null;
      fill(this.results);
    }
    this.summary.textContent = 'Searching…';
    try {
      const spans = actorId ? await this.actorSpans(actorId) : null;
      if (spans) {
        if (spans.size === 0) {
          this.summary.textContent = 'This actor appears in no indexed video yet.';
          this.more.hidden = true;
          return;
        }
        filter.videoIds = [...spans.keys()];
      }
      const postFiltered = Boolean(spans || objectLabel);
      const { searchSegments: page } = await gql(SEARCH, { query, filter, first: postFiltered ? FILTERED_PAGE_SIZE : PAGE_SIZE, after: this.after });
      const hits = page.edges
        .map((edge) => edge.node)
        .filter((hit) => !spans || (spans.get(hit.video.id) ?? []).some((s) => s.start < hit.segment.end && s.end > hit.segment.start))
        .filter((hit) => !objectLabel || hit.segment.tags.some((t) => t.kind === 'OBJECT' && (t.label.toLowerCase() === objectLabel || (t.labelZh ?? '') === objectLabel)));
      this.results.append(...hits.map((hit) => this.card(hit)));
      this.after = page.pageInfo.endCursor;
      this.more.hidden = !page.pageInfo.hasNextPage;
      const shown = this.results.childElementCount;
      this.summary.textContent = postFiltered
        ? `${shown} shown: the hits among ${page.totalCount} text matches that fit the ${[spans && 'actor', objectLabel && 'object'].filter(Boolean).join(' and ')} filter`
        : `${page.totalCount} segment${page.totalCount === 1 ? '' : 's'} match; ${shown} shown`;
    } catch (err) {
      this.summary.textContent = '';
      this.deps.status(describeError(err), true);
    }
  }

  card(hit) {
    const line = hit.cue ? hit.cue.text : hit.snippet.replace(/<\/?em>/g, '');
    const play = () => {
      this.results.querySelector('.card.playing')?.classList.remove('playing');
      card.classList.add('playing');
      const label = `Segment ${formatTime(hit.segment.start)} – ${formatTime(hit.segment.end)}${hit.cue ? `: “${hit.cue.text.replace(/\s+/g, ' ')}”` : ''}`;
      this.deps.player.playSpans(hit.video, [{ start: hit.segment.start, end: hit.segment.end }], label).catch((err) => this.deps.status(describeError(err), true));
    };
    const card = h(
      'button',
      { type: 'button', class: 'card', title: line, onclick: play, dataset: { segmentId: hit.segment.id, start: String(hit.segment.start) } },
      h('div', { class: 'thumb' }, h('img', { src: hit.segment.thumbnailUrl, alt: '', loading: 'lazy' }), h('span', { class: 'badge' }, formatTime(hit.segment.start))),
      h('div', { class: 'card-body' },
        h('div', { class: 'card-title' }, videoLabel(hit.video)),
        h('div', { class: 'line' }, snippetNodes(hit.snippet)),
        h('div', { class: 'meta muted' },
          hit.cue ? `${hit.cue.kind === 'SUBTITLE' ? 'Subtitle' : 'On screen'} ${formatTime(hit.cue.start)}–${formatTime(hit.cue.end)}` : 'Title match',
          hit.segment.tags.filter((t) => t.kind === 'OBJECT').slice(0, 3).map((t) => h('span', { class: 'tag' }, t.labelZh ? `${t.label} ${t.labelZh}` : t.label)),
        ),
      ),
    );
    return card;
  }
}
