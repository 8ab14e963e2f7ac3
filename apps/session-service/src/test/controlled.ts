/** A task that records when it runs and finishes (or throws the given error) when the test says so. */
export function controlled(log: string[], name: string) {
  let finish!: (error?: Error) => void;
  const done = new Promise<void>(
    (resolve, reject) => (finish = (error) => (error ? reject(error) : resolve())),
  );
  return {
    task: async () => {
      log.push(`start ${name}`);
      await done;
      log.push(`end ${name}`);
      return name;
    },
    finish: (error?: Error) => finish(error),
  };
}

/** Let every settled promise's continuations run. */
export const tick = () => new Promise((resolve) => setImmediate(resolve));
