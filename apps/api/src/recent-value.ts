/**
 * A read that may be answered from its last result for a short while: calls within `reuseMs` of the start of the
 * last successful read get its value (so what they see is at most `reuseMs` old), calls while a read is in flight
 * share it, and a failed read is never reused (the next call reads again). For values that many requests ask for
 * and that may lag a little, like the list of live workers on every `/healthz`.
 */
export function reuseRecent<T>(
  read: () => Promise<T>,
  reuseMs: number,
  now: () => number = () => performance.now(),
): () => Promise<T> {
  let last: { value: Promise<T>; startedAt: number } | null = null;
  let inFlight: Promise<T> | null = null;
  return () => {
    if (last && now() - last.startedAt < reuseMs) return last.value;
    if (inFlight) return inFlight;
    const startedAt = now();
    const reading = read();
    inFlight = reading;
    reading.then(
      () => {
        last = { value: reading, startedAt };
        inFlight = null;
      },
      () => {
        inFlight = null;
      },
    );
    return reading;
  };
}
