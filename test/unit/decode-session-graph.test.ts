// The shared decode's filtergraph: outputs sampled alike share the sampling (one fps filter for
// every 10 fps stream, one select for the keyframe candidates at every width), each output keeps
// its own pixel step and a checksum-free named showinfo, and JPEG outputs use the standard
// Huffman tables. What the frames are is covered against a real decode in
// test/integration/shared-decode.test.ts.
import { describe, expect, it } from 'vitest';
import { branchSteps, sessionArgs, type SessionOutput } from '../../src/media/decode-session.js';
import type { MediaProbe } from '../../src/media/probe.js';

const probe = { width: 1280, height: 720, startTime: 0.02, fps: 25, durationSec: 60 } as MediaProbe;
const sink = { add: (): void => undefined, end: (): void => undefined };

const outputs: SessionOutput[] = [
  { key: 'shots', request: { fps: 10, width: 96, pixFmt: 'rgb24', strict: true } },
  { key: 'ocr', request: { fps: 10, width: 960, pixFmt: 'gray' }, paced: true },
  { key: 'faces', request: { fps: 2, width: 960, pixFmt: 'rgb24' }, paced: true },
  { key: 'quality', request: { keyframesOnly: true, width: 1280, pixFmt: 'gray' } },
  { key: 'nsfw', request: { keyframesOnly: true, width: 256, pixFmt: 'rgb24' } },
  { key: 'fingerprints', request: { fps: 4, width: 128, pixFmt: 'rgb24' } },
  { key: 'candidates:640', request: { encode: 'mjpeg', width: 640, fps: 10, every: 5 }, sink },
  { key: 'candidates:256', request: { encode: 'mjpeg', width: 256, fps: 10, every: 5 }, sink },
];

function graphOf(args: string[]): string[] {
  return args[args.indexOf('-filter_complex') + 1]!.split(';');
}

/** How many chains of the graph hold this filter. */
function count(graph: string[], filter: string): number {
  return graph.filter((chain) => chain.includes(`]${filter},`) || chain.includes(`,${filter},`)).length;
}

describe('the shared decode graph', () => {
  const args = sessionArgs('/v/clip.mp4', probe, outputs);
  const graph = graphOf(args);

  it('runs each sampling once and splits after it', () => {
    expect(count(graph, 'fps=10')).toBe(1);
    expect(count(graph, "select='not(mod(n\\,5))'")).toBe(1);
    expect(count(graph, "select='eq(key\\,1)'")).toBe(1);
    // The 10 fps stream feeds shots, OCR and the candidates' select; the select both widths.
    expect(graph.some((chain) => /^\[s\d+\]fps=10,split=3(\[s\d+\]){3}$/.test(chain))).toBe(true);
    expect(graph.some((chain) => /select='not\(mod\(n\\,5\)\)',split=2\[s\d+\]\[s\d+\]$/.test(chain))).toBe(true);
    // The decoded stream splits once per distinct first step: fps 10, fps 2, keyframes, fps 4.
    expect(graph[0]).toBe('[0:v:0]split=4[s0][s1][s2][s3]');
  });

  it('gives every output its own pixel step, showinfo without checksums and pipe', () => {
    outputs.forEach((output, i) => {
      const pixels = branchSteps(output.request, probe).at(-1)!;
      expect(graph.filter((chain) => chain.includes(pixels))).toHaveLength(1);
      expect(graph).toContain(`[u${i}]showinfo@o${i}=checksum=0[o${i}]`);
      const map = args.indexOf(`[o${i}]`);
      expect(args[map - 1]).toBe('-map');
      expect(args.slice(map).find((a) => a.startsWith('pipe:'))).toBe(`pipe:${3 + i}`);
    });
    expect(graph.some((chain) => chain.includes('checksum=1') || /showinfo@o\d+\[/.test(chain))).toBe(false);
  });

  it('keeps each sampling as a decode of its own has it', () => {
    expect(branchSteps(outputs[2]!.request, probe)).toEqual(['fps=2', 'scale=960:540:flags=area,format=rgb24']);
    expect(branchSteps(outputs[3]!.request, probe)).toEqual(["select='eq(key\\,1)'", 'scale=1280:720:flags=area,format=gray']);
    expect(branchSteps(outputs[6]!.request, probe)).toEqual(['fps=10', "select='not(mod(n\\,5))'", 'scale=640:360:flags=bicubic,format=yuvj420p']);
  });

  it("gives grey-only JPEG outputs the scaler's luma and flat chroma", () => {
    const grey = { encode: 'mjpeg', width: 1280, fps: 10, every: 5, grey: true } as const;
    expect(branchSteps(grey, probe).at(-1)).toBe('scale=1280:720:flags=bicubic,format=gray,format=yuvj420p');
    expect(branchSteps({ ...grey, grey: false }, probe).at(-1)).toBe('scale=1280:720:flags=bicubic,format=yuvj420p');
  });

  it('encodes JPEG outputs with the standard Huffman tables, raw ones in their pixel format', () => {
    const jpeg = args.indexOf('[o6]');
    expect(args.slice(jpeg + 1, jpeg + 10)).toEqual(['-vsync', '0', '-c:v', 'mjpeg', '-q:v', '2', '-huffman', 'default', '-f']);
    const raw = args.indexOf('[o1]');
    expect(args.slice(raw + 1, raw + 8)).toEqual(['-vsync', '0', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:4']);
  });

  it("takes a JPEG output's luma from its very picture: one scale, split before the encoder, raw grey on its own pipe", () => {
    const jpeg = { encode: 'mjpeg', width: 1280, fps: 10, every: 5, grey: true } as const;
    const luma: SessionOutput[] = [
      { key: 'candidates', request: jpeg, sink },
      { key: 'luma', request: { lumaOf: jpeg }, sink: { addLuma: (): void => undefined, lumaEnded: (): void => undefined } },
    ];
    expect(branchSteps(luma[1]!.request, probe)).toEqual([...branchSteps(jpeg, probe), 'format=gray']);
    const lumaArgs = sessionArgs('/v/clip.mp4', probe, luma);
    const lumaGraph = graphOf(lumaArgs);
    expect(count(lumaGraph, 'scale=1280:720:flags=bicubic')).toBe(1);
    expect(lumaGraph).toContain('[s0]format=gray[u1]');
    const raw = lumaArgs.indexOf('[o1]');
    expect(lumaArgs.slice(raw + 1, raw + 8)).toEqual(['-vsync', '0', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:4']);
  });

  it('chains a lone output straight, without a split', () => {
    const one = graphOf(sessionArgs('/v/clip.mp4', probe, [outputs[0]!]));
    expect(one).toEqual(['[0:v:0]fps=10,scale=96:54:flags=area,format=rgb24[u0]', '[u0]showinfo@o0=checksum=0[o0]']);
  });
});
