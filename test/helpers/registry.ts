/** The schema registry the tests use: Apicurio Registry's Confluent-compatible API (scripts/registry.sh). */
export const REGISTRY_URL = process.env.CODEGEN_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7';

/** Whether the registry answers its subject listing. */
export async function registryUp(): Promise<boolean> {
  try {
    const response = await fetch(`${REGISTRY_URL}/subjects`, { signal: AbortSignal.timeout(3000) });
    return response.ok;
  } catch {
    return false;
  }
}
