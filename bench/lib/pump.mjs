// Shared by the broker throughput scripts (bench/<broker>/throughput.mjs).

/** Calls `publishOne(i)` for i < total with at most `window` unconfirmed; resolves when all are confirmed. */
export function pump(publishOne, total, window) {
  return new Promise((resolve, reject) => {
    let next = 0;
    let confirmed = 0;
    const launch = () => {
      while (next < total && next - confirmed < window) {
        publishOne(next++).then(() => {
          confirmed++;
          if (confirmed === total) resolve();
          else launch();
        }, reject);
      }
    };
    launch();
  });
}
