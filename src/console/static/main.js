// The console's entry: tabs, the editor-key dialog, a status line, and the lists several views
// share (actors, videos, series).
import { ApiError, describeError, getKey, gql, onKeyNeeded, setKey } from './api.js';
import { fill, h } from './dom.js';
import { FacesView } from './faces.js';
import { ImageView } from './image.js';
import { JobsView } from './jobs.js';
import { OnlyWatchView } from './onlywatch.js';
import { Player } from './player.js';
import { SearchView } from './search.js';

const ACTORS = `query { actors(first: 100) { edges { node { id name } } } }`;
const VIDEOS = `query { videos(first: 100, filter: { status: READY }) { edges { node { id title series season episode durationSec streamUrl } } } }`;

const $ = (selector) => /** @type {HTMLElement} */ (document.querySelector(selector));

const statusLine = $('#status');
let statusTimer = 0;
/** @param {string} text @param {boolean} [isError] */
function status(text, isError = false) {
  statusLine.textContent = text;
  statusLine.className = isError ? 'status error' : 'status';
  statusLine.hidden = false;
  clearTimeout(statusTimer);
  statusTimer = window.setTimeout(() => (statusLine.hidden = true), isError ? 12000 : 5000);
}

// Shared lists, read once and re-read when something changed them.
/** @type {Promise<{ id: string, name: string }[]> | null} */
let actorsRead = null;
/** @type {Promise<any[]> | null} */
let videosRead = null;
const actors = () => (actorsRead ??= gql(ACTORS).then((d) => d.actors.edges.map((e) => e.node)).catch((err) => { actorsRead = null; throw err; }));
const videos = () => (videosRead ??= gql(VIDEOS).then((d) => d.videos.edges.map((e) => e.node)).catch((err) => { videosRead = null; throw err; }));

const player = new Player($('#player'));
const views = {
  search: new SearchView($('#view-search'), { player, status, actors }),
  image: new ImageView($('#view-image'), { player, status }),
  onlywatch: new OnlyWatchView($('#view-onlywatch'), { player, status, videos }),
  faces: new FacesView($('#view-faces'), { status, actors, actorsChanged }),
  jobs: new JobsView($('#view-jobs'), { status, indexed: videosChanged, activeCount: showActiveJobs }),
};

function actorsChanged() {
  actorsRead = null;
  void views.search.refreshActors().catch(() => undefined);
  void views.onlywatch.refreshVideos().catch(() => undefined);
}

function videosChanged() {
  videosRead = null;
  void refreshShared();
}

function showActiveJobs(count) {
  const badge = $('#jobs-badge');
  badge.textContent = String(count);
  badge.hidden = count === 0;
}

async function refreshShared() {
  try {
    const list = await videos();
    fill($('#series-list'), [...new Set(list.map((v) => v.series).filter(Boolean))].sort().map((s) => h('option', { value: s })));
    $('#library').textContent = `${list.length} video${list.length === 1 ? '' : 's'} indexed`;
    await Promise.all([views.onlywatch.refreshVideos(), views.search.refreshActors()]);
  } catch (err) {
    // A missing key is asked for in the key dialog, not reported.
    if (!(err instanceof ApiError && err.code === 'UNAUTHENTICATED')) status(describeError(err), true);
  }
}

// Tabs: the hash names the open view, so a reload or a shared link keeps it.
function showView(name) {
  const chosen = name in views ? name : 'search';
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    const selected = tab.getAttribute('aria-controls') === `view-${chosen}`;
    tab.setAttribute('aria-selected', String(selected));
    $(`#${tab.getAttribute('aria-controls')}`).hidden = !selected;
  }
  views.jobs.setVisible(chosen === 'jobs');
  if (chosen === 'faces') void views.faces.refresh();
  if (chosen === 'onlywatch') void views.onlywatch.refreshVideos().catch((err) => status(describeError(err), true));
}
for (const tab of document.querySelectorAll('[role="tab"]')) {
  tab.addEventListener('click', () => (location.hash = tab.getAttribute('aria-controls').replace('view-', '')));
}
window.addEventListener('hashchange', () => showView(location.hash.slice(1)));
document.addEventListener('paste', (e) => {
  if (location.hash === '#image') views.image.onPaste(e);
});

// The editor key: asked for when the server refuses a call, kept for this tab only.
const keyDialog = /** @type {HTMLDialogElement} */ ($('#key-dialog'));
const keyInput = /** @type {HTMLInputElement} */ ($('#key-input'));
function askForKey() {
  if (keyDialog.open) return;
  keyInput.value = getKey();
  keyDialog.showModal();
}
onKeyNeeded(askForKey);
$('#key-button').addEventListener('click', askForKey);
$('#key-form').addEventListener('submit', () => {
  setKey(keyInput.value.trim());
  actorsRead = null;
  videosRead = null;
  void refreshShared();
  showView(location.hash.slice(1));
});

showView(location.hash.slice(1));
void refreshShared();
void views.jobs.poll();
