import { readFile } from 'node:fs/promises';
import type { GraphQLObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildVidsearchSchema, printVidsearchSchema, SCHEMA_FILE } from '../../src/resolvers/schema.js';

describe('schema/schema.graphql', () => {
  it('matches the schema the resolvers build (run `npm run schema` after changing them)', async () => {
    const current = printVidsearchSchema(await buildVidsearchSchema());
    const committed = await readFile(SCHEMA_FILE, 'utf8').catch(() => null);
    expect(committed, `${SCHEMA_FILE} is missing: run \`npm run build && npm run schema\``).not.toBeNull();
    expect(committed === current, 'schema/schema.graphql is stale: run `npm run build && npm run schema` and commit it').toBe(true);
  });

  it('keeps the operation names, arguments and shapes of API.md', async () => {
    const schema = await buildVidsearchSchema();
    const signature = (type: GraphQLObjectType | null | undefined, field: string): string => {
      const f = type?.getFields()[field];
      if (!f) return `${field}: <missing>`;
      const args = f.args.map((a) => `${a.name}: ${a.type.toString()}`).sort();
      return `${field}(${args.join(', ')}): ${f.type.toString()}`;
    };
    const query = schema.getQueryType();
    const mutation = schema.getMutationType();
    expect(signature(query, 'videos')).toBe('videos(after: String, filter: VideoFilter, first: Int): VideoConnection!');
    expect(signature(query, 'video')).toBe('video(id: ID!): Video');
    expect(signature(query, 'segment')).toBe('segment(id: ID!): Segment');
    expect(signature(query, 'job')).toBe('job(id: ID!): IndexingJob');
    expect(signature(query, 'jobs')).toBe('jobs(after: String, first: Int, status: JobStatus): IndexingJobConnection!');
    expect(signature(query, 'searchSegments')).toBe(
      'searchSegments(after: String, filter: SegmentFilter, first: Int, image: Upload, imageBase64: String, query: String!): SearchHitConnection!',
    );
    expect(signature(mutation, 'indexVideo')).toBe('indexVideo(input: IndexVideoInput!): IndexingJob!');
    expect(signature(mutation, 'updateVideo')).toBe('updateVideo(id: ID!, input: UpdateVideoInput!): Video!');
    expect(signature(mutation, 'cancelJob')).toBe('cancelJob(id: ID!): IndexingJob!');
    expect(signature(mutation, 'deleteVideo')).toBe('deleteVideo(id: ID!): Boolean!');

    const sdl = printVidsearchSchema(schema);
    expect(sdl).toMatch(/input IndexVideoInput \{[^}]*path: String![^}]*\}/s);
    for (const field of ['id', 'status', 'progress', 'stage', 'error', 'video']) {
      expect(Object.keys((schema.getType('IndexingJob') as GraphQLObjectType).getFields())).toContain(field);
    }
    for (const field of ['segment', 'score', 'snippet', 'cue']) {
      expect(Object.keys((schema.getType('SearchHit') as GraphQLObjectType).getFields())).toContain(field);
    }
    for (const field of ['video', 'start', 'end', 'keyframeTime', 'cues', 'thumbnailUrl', 'keyframeUrl']) {
      expect(Object.keys((schema.getType('Segment') as GraphQLObjectType).getFields())).toContain(field);
    }
    expect(signature(schema.getType('Video') as GraphQLObjectType, 'segments')).toBe('segments(after: String, first: Int): SegmentConnection!');
    expect(Object.keys((schema.getType('VideoConnection') as GraphQLObjectType).getFields()).sort()).toEqual(['edges', 'pageInfo', 'totalCount']);
  });
});
