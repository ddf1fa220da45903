// Indexing: queue a server-side file, watch jobs progress live (polled while this view is open or
// while a job is active), cancel a job.
import { describeError, gql } from './api.js';
import { fill, h } from './dom.js';

const JOBS = `query { jobs(first: 30) { totalCount edges { node { id status progress stage error path createdAt finishedAt video { id title } } } } }`;
const INDEX_VIDEO = `mutation($input: IndexVideoInput!) { indexVideo(input: $input) { id status } }`;
const CANCEL_JOB = `mutation($id: ID!) { cancelJob(id: $id) { id status } }`;

const POLL_MS = 1500;
const ACTIVE = new Set(['QUEUED', 'RUNNING']);

export class JobsView {
  /**
   * @param {HTMLElement} root
   * @param {{ status: (text: string, isError?: boolean) => void, indexed: () => void, activeCount: (n: number) => void }} deps
   */
  constructor(root, deps) {
    this.deps = deps;
    const input = (name, placeholder, attrs = {}) => h('input', { name, placeholder, ...attrs });
    this.form = /** @type {HTMLFormElement} */ (h(
      'form',
      { class: 'index-form', onsubmit: (e) => { e.preventDefault(); void this.submit(); } },
      h('label', { class: 'field wide' }, h('span', null, 'File on the server'), input('path', '/media/series/episode01.mp4', { required: true })),
      h('div', { class: 'filters' },
        h('label', { class: 'field' }, h('span', null, 'Title'), input('title', 'optional')),
        h('label', { class: 'field' }, h('span', null, 'Series'), input('series', 'optional', { list: 'series-list' })),
        h('label', { class: 'field' }, h('span', null, 'Season'), input('season', '–', { type: 'number', min: '0', class: 'time-input' })),
        h('label', { class: 'field' }, h('span', null, 'Episode'), input('episode', '–', { type: 'number', min: '0', class: 'time-input' })),
        h('label', { class: 'field' }, h('span', null, 'Priority'), input('priority', '0', { type: 'number', class: 'time-input' })),
        h('button', { type: 'submit' }, 'Index'),
      ),
    ));
    this.table = h('tbody');
    this.summary = h('div', { class: 'summary muted' });
    fill(root, this.form, this.summary, h('table', { class: 'jobs', id: 'jobs' },
      h('thead', null, h('tr', null, ['Status', 'File', 'Stage', 'Progress', 'Started', ''].map((t) => h('th', null, t)))), this.table));
    this.visible = false;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
    this.lastActive = 0;
  }

  /** @param {boolean} visible */
  setVisible(visible) {
    this.visible = visible;
    if (visible) void this.poll();
  }

  async poll() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    let active = 0;
    try {
      const { jobs } = await gql(JOBS);
      active = jobs.edges.filter(({ node }) => ACTIVE.has(node.status)).length;
      if (this.lastActive > active) this.deps.indexed();
      this.lastActive = active;
      this.deps.activeCount(active);
      this.summary.textContent = jobs.totalCount ? `${jobs.totalCount} job${jobs.totalCount === 1 ? '' : 's'}, ${active} active` : 'No indexing jobs yet.';
      fill(this.table, jobs.edges.map(({ node }) => this.row(node)));
    } catch (err) {
      if (this.visible) this.deps.status(describeError(err), true);
    }
    // Keep polling while the view is open, or in the background while a job still runs.
    if (this.visible || active > 0) this.timer = setTimeout(() => void this.poll(), POLL_MS);
  }

  row(job) {
    const percent = Math.round(job.progress * 100);
    const file = job.path.split('/').pop();
    return h(
      'tr',
      { dataset: { jobId: job.id, status: job.status } },
      h('td', null, h('span', { class: `pill ${job.status.toLowerCase()}` }, job.status)),
      h('td', { title: job.path }, job.video?.title ? `${job.video.title} (${file})` : file, job.error ? h('div', { class: 'error small' }, job.error) : null),
      h('td', null, job.stage ?? '–'),
      h('td', null, h('div', { class: 'progress', role: 'progressbar', 'aria-valuenow': String(percent), 'aria-valuemin': '0', 'aria-valuemax': '100' },
        h('div', { class: 'fill', css: { width: `${percent}%` } })), h('span', { class: 'muted small' }, `${percent}%`)),
      h('td', { class: 'muted' }, new Date(job.createdAt).toLocaleTimeString()),
      h('td', null, ACTIVE.has(job.status) ? h('button', { type: 'button', class: 'secondary small', onclick: () => void this.cancel(job.id) }, 'Cancel') : null),
    );
  }

  async submit() {
    const data = new FormData(this.form);
    const text = (name) => String(data.get(name) ?? '').trim() || null;
    const int = (name) => (text(name) === null ? null : Number(text(name)));
    try {
      const input = { path: text('path'), title: text('title'), series: text('series'), season: int('season'), episode: int('episode'), priority: int('priority') };
      const { indexVideo } = await gql(INDEX_VIDEO, { input });
      this.deps.status(`Job ${indexVideo.id} ${indexVideo.status.toLowerCase()}`);
      this.form.reset();
      await this.poll();
    } catch (err) {
      this.deps.status(describeError(err), true);
    }
  }

  async cancel(id) {
    try {
      await gql(CANCEL_JOB, { id });
      await this.poll();
    } catch (err) {
      this.deps.status(describeError(err), true);
    }
  }
}
