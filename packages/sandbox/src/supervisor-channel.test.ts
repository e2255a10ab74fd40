import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { SupervisorChannel } from './supervisor-channel.js';

/** A frame of the supervisor's protocol inside one chunk of Docker's multiplexed stdout (stream 1). */
function onStdout(kind: string, payload: Buffer): Buffer {
  const frame = Buffer.concat([Buffer.from(kind, 'latin1'), Buffer.alloc(4), payload]);
  frame.writeUInt32BE(payload.length, 1);
  const header = Buffer.alloc(8);
  header[0] = 1;
  header.writeUInt32BE(frame.length, 4);
  return Buffer.concat([header, frame]);
}

async function channelOver(stream: PassThrough): Promise<SupervisorChannel> {
  const container = { attach: async () => stream } as unknown as Docker.Container;
  return SupervisorChannel.attach(new Docker(), container, 1024);
}

describe('SupervisorChannel', () => {
  it('reads frames split across chunks and sends length-prefixed frames', async () => {
    const stream = new PassThrough();
    const sent: Buffer[] = [];
    stream.write = ((chunk: Buffer) => sent.push(chunk)) as never;
    const channel = await channelOver(stream);
    const bytes = Buffer.concat([onStdout('o', Buffer.from('hello')), onStdout('x', Buffer.from('{"exitCode":0}'))]);
    stream.push(bytes.subarray(0, 11));
    stream.push(bytes.subarray(11));
    expect(await channel.next(1000)).toEqual({ kind: 'o', payload: Buffer.from('hello') });
    expect(await channel.next(1000)).toEqual({ kind: 'x', payload: Buffer.from('{"exitCode":0}') });
    expect(await channel.next(50)).toBe('timeout');
    channel.send('K');
    expect(sent).toEqual([Buffer.from([0x4b, 0, 0, 0, 0])]);
  });

  it('ends on an unknown kind or an oversized frame, and never delivers it', async () => {
    for (const [kind, size] of [
      ['Q', 3],
      ['o', 64 * 1024 + 1],
      ['L', 1025],
      ['r', 1],
    ] as const) {
      const stream = new PassThrough();
      const channel = await channelOver(stream);
      stream.push(onStdout(kind, Buffer.alloc(size)));
      const next = await channel.next(1000);
      expect(next).toEqual({ end: expect.stringMatching(/broke its protocol/) });
      expect(channel.endReason).toMatch(new RegExp(`frame "${kind}" of ${size} bytes`));
    }
  });

  it('says why when the stream ends, after the frames that came before', async () => {
    const stream = new PassThrough();
    const channel = await channelOver(stream);
    stream.push(onStdout('r', Buffer.alloc(0)));
    stream.push(null);
    expect(await channel.next(1000)).toEqual({ kind: 'r', payload: Buffer.alloc(0) });
    expect(await channel.next(1000)).toEqual({ end: 'the sandbox supervisor closed its stream' });
  });
});
