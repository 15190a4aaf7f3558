/**
 * Imports a package the generated code can use but does not depend on (a store's client library), only when
 * it is used. The specifier is a variable, so TypeScript and bundlers do not require the package at build time.
 */
export async function importOptional<T>(specifier: string, user: string): Promise<T> {
  try {
    return (await import(specifier)) as T;
  } catch (error) {
    throw new Error(`${user}: cannot load ${specifier} (npm install ${specifier}): ${String(error)}`);
  }
}
