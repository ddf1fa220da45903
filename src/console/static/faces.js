// Face clusters: review the faces of unknown people, name a cluster (after a new or an existing
// actor), move wrongly grouped faces to an actor, and merge two actors that are one person.
import { describeError, gql } from './api.js';
import { fill, formatTime, h } from './dom.js';

const CLUSTERS = `query($named: Boolean) {
  faceClusters(first: 40, named: $named) {
    totalCount
    edges { node { id size thumbnailUrl actor { id name } sampleFaces(first: 8) { id thumbnailUrl time videoId } } }
  }
}`;
const NAME_CLUSTER = `mutation($clusterId: ID!, $actorId: ID, $newActorName: String) {
  nameFaceCluster(clusterId: $clusterId, actorId: $actorId, newActorName: $newActorName) { actor { id name } tracksNamed templatesAdded }
}`;
const MOVE_FACES = `mutation($faceIds: [ID!]!, $toActorId: ID!) { moveFaces(faceIds: $faceIds, toActorId: $toActorId) { actor { name } tracksMoved templatesAdded } }`;
const MERGE_ACTORS = `mutation($sourceId: ID!, $targetId: ID!) { mergeActors(sourceId: $sourceId, targetId: $targetId) { id name aliases } }`;

export class FacesView {
  /**
   * @param {HTMLElement} root
   * @param {{ status: (text: string, isError?: boolean) => void, actors: () => Promise<{ id: string, name: string }[]>, actorsChanged: () => void }} deps
   */
  constructor(root, deps) {
    this.deps = deps;
    this.which = /** @type {HTMLSelectElement} */ (h('select', { name: 'clusterFilter', onchange: () => void this.refresh() },
      h('option', { value: 'false' }, 'Unnamed clusters'), h('option', { value: 'true' }, 'Named clusters'), h('option', { value: 'all' }, 'All clusters')));
    this.moveTarget = /** @type {HTMLSelectElement} */ (h('select', { name: 'moveTarget' }));
    this.mergeSource = /** @type {HTMLSelectElement} */ (h('select', { name: 'mergeSource' }));
    this.mergeTarget = /** @type {HTMLSelectElement} */ (h('select', { name: 'mergeTarget' }));
    this.selectedCount = h('span', { class: 'muted' }, 'no faces selected');
    this.summary = h('div', { class: 'summary muted', 'aria-live': 'polite' });
    this.grid = h('div', { class: 'clusters', id: 'clusters' });
    this.actorList = h('datalist', { id: 'actor-names' });
    const toolbar = h(
      'div',
      { class: 'face-tools' },
      h('label', { class: 'field' }, h('span', null, 'Show'), this.which),
      h('form', { class: 'tool', onsubmit: (e) => { e.preventDefault(); void this.moveSelected(); } },
        this.selectedCount, h('span', null, '→'), this.moveTarget, h('button', { type: 'submit', class: 'secondary' }, 'Move faces')),
      h('form', { class: 'tool', onsubmit: (e) => { e.preventDefault(); void this.merge(); } },
        h('span', null, 'Merge'), this.mergeSource, h('span', null, 'into'), this.mergeTarget, h('button', { type: 'submit', class: 'secondary' }, 'Merge actors')),
    );
    fill(root, toolbar, this.summary, this.grid, this.actorList);
    /** @type {{ id: string, name: string }[]} */
    this.actors = [];
  }

  async refreshActors() {
    this.actors = await this.deps.actors();
    const options = (placeholder) => [h('option', { value: '' }, placeholder), ...this.actors.map((a) => h('option', { value: a.id }, a.name))];
    fill(this.moveTarget, options('actor…'));
    fill(this.mergeSource, options('actor…'));
    fill(this.mergeTarget, options('actor…'));
    fill(this.actorList, this.actors.map((a) => h('option', { value: a.name })));
  }

  async refresh() {
    try {
      await this.refreshActors();
      const named = this.which.value === 'all' ? null : this.which.value === 'true';
      const { faceClusters } = await gql(CLUSTERS, { named });
      this.summary.textContent = faceClusters.totalCount
        ? `${faceClusters.totalCount} cluster${faceClusters.totalCount === 1 ? '' : 's'}${faceClusters.totalCount > faceClusters.edges.length ? `, newest ${faceClusters.edges.length} shown` : ''}. Click faces to select them.`
        : 'No clusters here. Unknown faces are grouped while videos are indexed.';
      fill(this.grid, faceClusters.edges.map(({ node }) => this.clusterCard(node)));
      this.updateSelection();
    } catch (err) {
      this.deps.status(describeError(err), true);
    }
  }

  clusterCard(cluster) {
    const nameInput = /** @type {HTMLInputElement} */ (h('input', { name: 'clusterName', list: 'actor-names', placeholder: cluster.actor ? cluster.actor.name : 'Who is this?', required: true, autocomplete: 'off' }));
    return h(
      'article',
      { class: 'cluster', dataset: { clusterId: cluster.id } },
      h('header', null,
        cluster.thumbnailUrl ? h('img', { class: 'cover', src: cluster.thumbnailUrl, alt: '' }) : h('span', { class: 'cover empty' }),
        h('div', null,
          h('div', { class: 'card-title' }, cluster.actor ? cluster.actor.name : 'Unknown person'),
          h('div', { class: 'muted' }, `${cluster.size} track${cluster.size === 1 ? '' : 's'}`),
        ),
      ),
      h('div', { class: 'faces' },
        cluster.sampleFaces.map((face) =>
          h('button', {
            type: 'button',
            class: 'face',
            title: `${formatTime(face.time)} in video ${face.videoId}`,
            'aria-pressed': 'false',
            dataset: { faceId: face.id },
            onclick: (e) => {
              const button = /** @type {HTMLElement} */ (e.currentTarget);
              button.setAttribute('aria-pressed', button.getAttribute('aria-pressed') === 'true' ? 'false' : 'true');
              this.updateSelection();
            },
          }, face.thumbnailUrl ? h('img', { src: face.thumbnailUrl, alt: '' }) : '?'),
        ),
      ),
      h('form', { class: 'name-form', onsubmit: (e) => { e.preventDefault(); void this.nameCluster(cluster, nameInput.value); } },
        nameInput, h('button', { type: 'submit' }, cluster.actor ? 'Rename' : 'Name')),
    );
  }

  selectedFaces() {
    return [...this.grid.querySelectorAll('.face[aria-pressed="true"]')].map((el) => /** @type {HTMLElement} */ (el).dataset.faceId);
  }

  updateSelection() {
    const count = this.selectedFaces().length;
    this.selectedCount.textContent = count ? `${count} face${count === 1 ? '' : 's'} selected` : 'no faces selected';
  }

  async nameCluster(cluster, rawName) {
    const name = rawName.trim();
    if (!name) return;
    const existing = this.actors.find((a) => a.name === name);
    try {
      const { nameFaceCluster: result } = await gql(NAME_CLUSTER, { clusterId: cluster.id, actorId: existing?.id ?? null, newActorName: existing ? null : name });
      this.deps.status(`Named ${result.tracksNamed} track${result.tracksNamed === 1 ? '' : 's'} ${result.actor.name}${result.templatesAdded ? `; ${result.templatesAdded} faces learnt for later videos` : ''}`);
      this.deps.actorsChanged();
      await this.refresh();
    } catch (err) {
      this.deps.status(describeError(err), true);
    }
  }

  async moveSelected() {
    const faceIds = this.selectedFaces();
    if (!faceIds.length || !this.moveTarget.value) {
      this.deps.status('Select faces and the actor to move them to', true);
      return;
    }
    try {
      const { moveFaces } = await gql(MOVE_FACES, { faceIds, toActorId: this.moveTarget.value });
      this.deps.status(`Moved ${moveFaces.tracksMoved} track${moveFaces.tracksMoved === 1 ? '' : 's'} to ${moveFaces.actor.name}${moveFaces.templatesAdded ? `; ${moveFaces.templatesAdded} faces learnt for later videos` : ''}`);
      this.deps.actorsChanged();
      await this.refresh();
    } catch (err) {
      this.deps.status(describeError(err), true);
    }
  }

  async merge() {
    const sourceId = this.mergeSource.value;
    const targetId = this.mergeTarget.value;
    if (!sourceId || !targetId) {
      this.deps.status('Choose the two actors to merge', true);
      return;
    }
    const source = this.actors.find((a) => a.id === sourceId);
    const target = this.actors.find((a) => a.id === targetId);
    if (!window.confirm(`Merge ${source?.name} into ${target?.name}? ${source?.name} becomes an alias and is deleted.`)) return;
    try {
      const { mergeActors } = await gql(MERGE_ACTORS, { sourceId, targetId });
      this.deps.status(`Merged into ${mergeActors.name} (aliases: ${mergeActors.aliases.join(', ') || 'none'})`);
      this.deps.actorsChanged();
      await this.refresh();
    } catch (err) {
      this.deps.status(describeError(err), true);
    }
  }
}
