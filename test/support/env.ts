/**
 * Sets environment variables for the duration of one mocha suite and restores them afterwards, so that a suite
 * that silences Powertools (or points at its own endpoints) does not change the process for the suites after it.
 */
export function useEnv(variables: Record<string, string>): void {
  const saved = new Map<string, string | undefined>();
  before(() => {
    for (const [name, value] of Object.entries(variables)) {
      saved.set(name, process.env[name]);
      process.env[name] = value;
    }
  });
  after(() => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
}
