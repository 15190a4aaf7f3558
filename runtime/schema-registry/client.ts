import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { SchemaRegistryOptions, SubjectNameStrategy } from '../codec.js';

export type { SchemaRegistryOptions, SubjectNameStrategy };

/** The registry refused or failed a request: `status` is the HTTP status (409: incompatible schema), `code` the registry's error code. */
export class SchemaRegistryError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly code: number | undefined,
  ) {
    super(message);
    this.name = 'SchemaRegistryError';
  }
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

/** The registry's name for a schema language other than Avro. */
export type SchemaType = 'PROTOBUF';

/**
 * A client of the Confluent schema registry REST API: ids of the schemas a producer writes
 * (registered or looked up once per subject and schema) and the schemas consumers meet by id
 * (fetched once per id). Concurrent asks for the same answer share one request.
 */
export class SchemaRegistryClient {
  readonly strategy: SubjectNameStrategy;
  private readonly ids = new Map<string, Promise<number>>();
  private readonly schemas = new Map<number, Promise<string>>();

  constructor(readonly options: SchemaRegistryOptions) {
    this.strategy = options.subjectNameStrategy ?? 'topic';
  }

  /** The subject a record's schema is filed under for a topic. */
  subject(topic: string, recordName: string | undefined): string {
    if (this.strategy === 'topic' || recordName === undefined) return `${topic}-value`;
    return this.strategy === 'record' ? recordName : `${topic}-${recordName}`;
  }

  /**
   * The id of a schema under a subject: registered on first use (autoRegister) or looked up.
   * `schemaType`: absent for Avro (the registry's default), `PROTOBUF` for a `.proto` text.
   */
  idOf(subject: string, schema: string, schemaType?: SchemaType): Promise<number> {
    const key = `${subject}\u0000${schema}`;
    let id = this.ids.get(key);
    if (!id) {
      id = this.register(subject, schema, schemaType);
      this.ids.set(key, id);
      // A failure is not remembered: the next publish asks again.
      id.catch(() => this.ids.delete(key));
    }
    return id;
  }

  /** The schema (Avro JSON text, `.proto` text) a writer used, by its id. */
  schemaById(id: number): Promise<string> {
    let schema = this.schemas.get(id);
    if (!schema) {
      schema = this.call('GET', `/schemas/ids/${id}`).then((body) => String((body as { schema?: unknown }).schema));
      this.schemas.set(id, schema);
      schema.catch(() => this.schemas.delete(id));
    }
    return schema;
  }

  /** The latest version registered under a subject, or undefined when the subject has none. */
  async latest(subject: string): Promise<{ id: number; version: number; schema: string } | undefined> {
    try {
      const body = (await this.call('GET', `/subjects/${encodeURIComponent(subject)}/versions/latest`)) as {
        id: number;
        version: number;
        schema: string;
      };
      return { id: body.id, version: body.version, schema: body.schema };
    } catch (error) {
      if (error instanceof SchemaRegistryError && error.status === 404) return undefined;
      throw error;
    }
  }

  private async register(subject: string, schema: string, schemaType: SchemaType | undefined): Promise<number> {
    const path = `/subjects/${encodeURIComponent(subject)}`;
    const body = (await this.call('POST', this.options.autoRegister === false ? path : `${path}/versions`, {
      schema,
      ...(schemaType ? { schemaType } : {}),
    })) as { id?: unknown };
    if (typeof body.id !== 'number')
      throw new SchemaRegistryError(`the registry answered without a schema id for subject ${subject}`, 200, undefined);
    return body.id;
  }

  /** One request; the registry's error message becomes a SchemaRegistryError. */
  private call(method: string, path: string, body?: unknown): Promise<unknown> {
    const url = new URL(this.options.url.replace(/\/+$/, '') + path);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: CONTENT_TYPE };
    if (payload !== undefined) headers['content-type'] = CONTENT_TYPE;
    const { auth, tls } = this.options;
    if (auth) headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        url,
        { method, headers, timeout: this.options.timeoutMs ?? 10_000, ...(url.protocol === 'https:' ? tls : {}) },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text ? JSON.parse(text) : {};
            } catch {
              parsed = { message: text.slice(0, 200) };
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolve(parsed);
            const answer = parsed as { message?: unknown; error_code?: unknown };
            const why = typeof answer.message === 'string' ? answer.message : `HTTP ${status}`;
            const what =
              status === 409
                ? 'the registry refused the schema as incompatible'
                : `schema registry ${method} ${url.pathname} failed`;
            reject(
              new SchemaRegistryError(
                `${what}: ${why}`,
                status,
                typeof answer.error_code === 'number' ? answer.error_code : undefined,
              ),
            );
          });
        },
      );
      req.on('timeout', () =>
        req.destroy(
          new SchemaRegistryError(
            `schema registry ${method} ${url.pathname}: no answer within ${this.options.timeoutMs ?? 10_000} ms`,
            undefined,
            undefined,
          ),
        ),
      );
      req.on('error', (error) =>
        reject(
          error instanceof SchemaRegistryError
            ? error
            : new SchemaRegistryError(
                `schema registry at ${url.origin} cannot be reached: ${error.message}`,
                undefined,
                undefined,
              ),
        ),
      );
      req.end(payload);
    });
  }
}
