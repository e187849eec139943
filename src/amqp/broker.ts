import { connect } from 'amqplib';
import { ServiceUnreachableError } from '../errors.js';

/**
 * Connect once to check that `--broker` is reachable; resolves with its product and
 * version. An unreachable broker or bad credentials → ServiceUnreachableError (exit 2).
 */
export async function probeBroker(url: string, timeoutMs = 3000): Promise<{ product: string; version: string }> {
  try {
    const conn = await connect(url, { timeout: timeoutMs, noDelay: true });
    const props = conn.connection.serverProperties;
    await conn.close();
    return { product: String(props.product ?? 'unknown'), version: String(props.version ?? '') };
  } catch (err) {
    const reason = err instanceof Error ? ((err as { code?: string }).code ?? err.message) : String(err);
    throw new ServiceUnreachableError('--broker', url, reason);
  }
}
