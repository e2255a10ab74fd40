import type { CappedText } from '@autolab/engine';

/**
 * Keeps the first `headBytes` and the last `tailBytes` of a byte stream and counts the rest,
 * so a process that prints 50 MB costs a few kilobytes of memory.
 */
export class CappedOutput {
  private head: Buffer[] = [];
  private headSize = 0;
  private tail: Buffer[] = [];
  private tailSize = 0;
  private total = 0;

  constructor(
    private readonly headBytes: number,
    private readonly tailBytes: number,
  ) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    let rest = chunk;
    if (this.headSize < this.headBytes) {
      const take = Math.min(this.headBytes - this.headSize, rest.length);
      this.head.push(rest.subarray(0, take));
      this.headSize += take;
      rest = rest.subarray(take);
    }
    if (rest.length === 0) return;
    this.tail.push(rest);
    this.tailSize += rest.length;
    while (this.tailSize - (this.tail[0]?.length ?? 0) >= this.tailBytes) {
      this.tailSize -= this.tail.shift()!.length;
    }
  }

  result(): CappedText {
    let tail = Buffer.concat(this.tail);
    if (tail.length > this.tailBytes) tail = tail.subarray(tail.length - this.tailBytes);
    const kept = this.headSize + tail.length;
    const dropped = this.total - kept;
    const head = Buffer.concat(this.head).toString('utf8');
    const marker = dropped > 0 ? `\n[… ${dropped} bytes of output dropped; showing the first and last part …]\n` : '';
    return { text: head + marker + tail.toString('utf8'), totalBytes: this.total, droppedBytes: dropped };
  }
}
