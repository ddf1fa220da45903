// Versioned Elasticsearch indices (the text index here, the catalog's in catalog-schema.ts) and
// the text index's shape.
//
// Versioned indices behind an alias: documents live in `<prefix>-text-v<N>` and every read and
// write goes through the alias `<prefix>-text`. A build with a newer schema version creates
// the new index from the template, copies the documents with _reindex, and swaps the alias in one
// atomic `_aliases` call — searches keep working on the old index until the swap (zero downtime).
// The version also sits in the index mapping's `_meta`, so a node started by an older build sees
// the newer schema and refuses to run instead of writing the wrong shape.
//
// Analysis (one text, three views, queried together):
//   text         Chinese words: smartcn (the analysis-smartcn plugin, docker/elasticsearch.Dockerfile);
//                without the plugin the n-gram fallback below is used here too, and _meta says so.
//   text.en      English: whitespace tokens, full/half-width folding (cjk_width), lowercase,
//                word_delimiter_graph (Joy-Con → joy, con, joycon) and the Porter stemmer.
//   text.gram    CJK bigrams (standard tokenizer + cjk_bigram, built into Elasticsearch): finds any
//                Chinese substring of two characters or more wherever word segmentation cut it.
import type { Client, estypes } from '@elastic/elasticsearch';
import { errorType, isNotFound } from './client.js';

export const TEXT_SCHEMA_VERSION = 1;

export type ChineseAnalyzer = 'smartcn' | 'cjk_bigram';

/** A versioned index family: `<alias>-v<N>` indices created from one template, read through `<alias>`. */
export interface IndexNames {
  alias: string;
  template: string;
  versioned(version: number): string;
}

export function indexNames(prefix: string, name: string): IndexNames {
  const alias = `${prefix}-${name}`;
  return { alias, template: `${alias}-template`, versioned: (version) => `${alias}-v${version}` };
}

export function textIndexNames(prefix: string): IndexNames {
  return indexNames(prefix, 'text');
}

export interface TextIndexMeta {
  schemaVersion: number;
  chineseAnalyzer: ChineseAnalyzer;
}

export function textIndexSettings(chinese: ChineseAnalyzer): estypes.IndicesIndexSettings {
  const words: estypes.AnalysisAnalyzer =
    chinese === 'smartcn'
      ? { type: 'custom', tokenizer: 'smartcn_tokenizer', filter: ['cjk_width', 'lowercase', 'porter_stem'] }
      : { type: 'custom', tokenizer: 'standard', filter: ['cjk_width', 'lowercase', 'cjk_bigram', 'porter_stem'] };
  return {
    number_of_shards: 1,
    analysis: {
      filter: {
        vs_word_parts: {
          type: 'word_delimiter_graph',
          catenate_words: true,
          preserve_original: false,
          split_on_case_change: false,
        },
      },
      analyzer: {
        vs_words: words,
        // Index time flattens the word-delimiter graph; search time keeps it (the documented pairing).
        vs_english_index: {
          type: 'custom',
          tokenizer: 'whitespace',
          filter: ['cjk_width', 'vs_word_parts', 'flatten_graph', 'lowercase', 'porter_stem'],
        },
        vs_english_search: { type: 'custom', tokenizer: 'whitespace', filter: ['cjk_width', 'vs_word_parts', 'lowercase', 'porter_stem'] },
        vs_grams: { type: 'custom', tokenizer: 'standard', filter: ['cjk_width', 'lowercase', 'cjk_bigram'] },
      },
    },
  };
}

export function textIndexMappings(meta: TextIndexMeta): estypes.MappingTypeMapping {
  return {
    dynamic: 'strict',
    _meta: { ...meta },
    properties: {
      id: { type: 'keyword' },
      videoId: { type: 'keyword' },
      segmentId: { type: 'keyword' },
      cueId: { type: 'keyword' },
      kind: { type: 'keyword' },
      start: { type: 'double' },
      end: { type: 'double' },
      series: { type: 'keyword' },
      text: {
        type: 'text',
        analyzer: 'vs_words',
        fields: {
          en: { type: 'text', analyzer: 'vs_english_index', search_analyzer: 'vs_english_search' },
          gram: { type: 'text', analyzer: 'vs_grams' },
        },
      },
    },
  };
}

export class SchemaTooNewError extends Error {
  override name = 'SchemaTooNewError';
}

async function hasSmartcn(client: Client): Promise<boolean> {
  const plugins = await client.cat.plugins({ format: 'json' });
  return plugins.some((p) => p.component === 'analysis-smartcn');
}

/** The concrete index the alias points at, with its stored _meta, or null when there is none. */
async function currentIndex(client: Client, alias: string): Promise<{ index: string; meta: Record<string, unknown> } | null> {
  let aliases: estypes.IndicesGetAliasResponse;
  try {
    aliases = await client.indices.getAlias({ name: alias });
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
  const [index] = Object.keys(aliases);
  if (!index) return null;
  const mapping = await client.indices.getMapping({ index });
  return { index, meta: mapping[index]?.mappings._meta ?? {} };
}

export interface VersionedIndexSpec {
  names: IndexNames;
  /** This build's schema version; also stored as `schemaVersion` in the mapping _meta. */
  version: number;
  settings: estypes.IndicesIndexSettings;
  mappings: estypes.MappingTypeMapping;
}

export interface VersionedIndexResult {
  index: string;
  action: 'none' | 'created' | 'migrated';
  /** The _meta the index had before this start (null for a fresh index). */
  storedMeta: Record<string, unknown> | null;
}

/**
 * Puts the index template and brings the alias to `spec.version`: creates the first index, or
 * re-indexes an older one into a new versioned index and swaps the alias atomically. An index at
 * a newer version than this build is refused (SchemaTooNewError).
 */
export async function migrateVersionedIndex(client: Client, spec: VersionedIndexSpec): Promise<VersionedIndexResult> {
  const { names, version } = spec;
  const current = await currentIndex(client, names.alias);
  const storedVersion = typeof current?.meta.schemaVersion === 'number' ? current.meta.schemaVersion : 0;
  if (current && storedVersion > version) {
    throw new SchemaTooNewError(`Elasticsearch index ${current.index} is at schema ${storedVersion}, newer than this build (${version})`);
  }
  if (current && storedVersion === version) return { index: current.index, action: 'none', storedMeta: current.meta };

  await client.indices.putIndexTemplate({
    name: names.template,
    index_patterns: [`${names.alias}-v*`],
    priority: 100,
    template: { settings: spec.settings, mappings: spec.mappings },
    _meta: { schemaVersion: version },
  });
  const target = names.versioned(version);
  try {
    await client.indices.create({ index: target });
  } catch (err) {
    // A concurrent start created it: carry on with the copy/alias steps, which are idempotent.
    if (errorType(err) !== 'resource_already_exists_exception') throw err;
  }
  if (!current) {
    await client.indices.updateAliases({ actions: [{ add: { index: target, alias: names.alias, is_write_index: true } }] });
    return { index: target, action: 'created', storedMeta: null };
  }
  await client.reindex({ source: { index: current.index }, dest: { index: target, op_type: 'index' }, wait_for_completion: true, refresh: true });
  await client.indices.updateAliases({
    actions: [
      { remove: { index: current.index, alias: names.alias } },
      { add: { index: target, alias: names.alias, is_write_index: true } },
    ],
  });
  // The old index stays until an operator deletes it: a rollback needs only an alias swap.
  return { index: target, action: 'migrated', storedMeta: current.meta };
}

export interface MigrationResult {
  index: string;
  meta: TextIndexMeta;
  /** What happened on this start: nothing, a fresh index, or a copy into the new version. */
  action: 'none' | 'created' | 'migrated';
}

/** The text index at TEXT_SCHEMA_VERSION, with the Chinese analyser this cluster offers. */
export async function migrateTextIndex(client: Client, prefix: string): Promise<MigrationResult> {
  const meta: TextIndexMeta = {
    schemaVersion: TEXT_SCHEMA_VERSION,
    chineseAnalyzer: (await hasSmartcn(client)) ? 'smartcn' : 'cjk_bigram',
  };
  const result = await migrateVersionedIndex(client, {
    names: textIndexNames(prefix),
    version: TEXT_SCHEMA_VERSION,
    settings: textIndexSettings(meta.chineseAnalyzer),
    mappings: textIndexMappings(meta),
  });
  if (result.action !== 'none') return { index: result.index, meta, action: result.action };
  // An index already at this version keeps the analyser it was built with.
  const stored = result.storedMeta?.chineseAnalyzer;
  const chineseAnalyzer = stored === 'smartcn' || stored === 'cjk_bigram' ? stored : meta.chineseAnalyzer;
  return { index: result.index, meta: { schemaVersion: TEXT_SCHEMA_VERSION, chineseAnalyzer }, action: 'none' };
}
