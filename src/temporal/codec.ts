// The payload codec: every payload Countersign puts into Temporal (workflow input, activity arguments and results,
// Update and query answers, the final record) is sealed with AES-256-GCM before it leaves the process. Search
// attributes are not payloads of this kind and stay plain (ids and enums only). The key of each payload is derived
// from a vault master key (HKDF-SHA256), and the master key's id travels in the payload's metadata, so after a
// rotation (COUNTERSIGN_MASTER_KEY_PREVIOUS) old histories still decode while new payloads use the current key.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { MasterKey, MasterKeyring } from '../vault/master-key';

/** The encoding Temporal's UI and CLI see on a sealed payload. */
export const ENCRYPTED_ENCODING = 'binary/countersign-aes256gcm';
/** Metadata key naming the master key a payload's key derives from. */
export const KEY_ID_METADATA = 'countersign-key-id';

// A CommonJS module: Node's ESM loader sees only its default export.
const PayloadMessage = proto.temporal.api.common.v1.Payload;

const IV_BYTES = 12;
const TAG_BYTES = 16;
const HKDF_SALT = Buffer.from('countersign/payload-codec/v1');
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The AES-256-GCM codec over a master keyring. */
export class EncryptionCodec implements PayloadCodec {
  readonly #keyring: MasterKeyring;
  readonly #keys = new Map<string, Buffer>();

  constructor(keyring: MasterKeyring) {
    this.#keyring = keyring;
  }

  /** The id of the key new payloads are sealed with. */
  get currentKeyId(): string {
    return this.#keyring.current.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const master = this.#keyring.current;
    const key = this.#derive(master);
    return payloads.map((payload) => {
      const plain = PayloadMessage.encode(payload).finish();
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      // The key id is authenticated too: a payload cannot be relabelled to another key.
      cipher.setAAD(Buffer.from(master.id));
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { encoding: encoder.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: encoder.encode(master.id) },
        data: sealed,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.encoding;
      if (!encoding || decoder.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
      const keyIdBytes = payload.metadata?.[KEY_ID_METADATA];
      const keyId = keyIdBytes ? decoder.decode(keyIdBytes) : '';
      const master = this.#keyring.get(keyId);
      if (!master) {
        throw new Error(
          `payload sealed with master key ${keyId || '(none)'}, which this process does not hold (set it in COUNTERSIGN_MASTER_KEY_PREVIOUS)`,
        );
      }
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < IV_BYTES + TAG_BYTES) throw new Error('sealed payload is truncated');
      const decipher = createDecipheriv('aes-256-gcm', this.#derive(master), data.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(master.id));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return PayloadMessage.decode(plain);
    });
  }

  #derive(master: MasterKey): Buffer {
    let key = this.#keys.get(master.id);
    if (!key) {
      // A key of its own for payloads: the master key itself never encrypts anything but data keys.
      key = Buffer.from(hkdfSync('sha256', master.key, HKDF_SALT, `payloads/${master.id}`, 32));
      this.#keys.set(master.id, key);
    }
    return key;
  }
}

/** The data converter of every Temporal client and worker Countersign creates; plain when encryption is off. */
export function createDataConverter(codec: PayloadCodec | undefined): DataConverter {
  return codec ? { payloadCodecs: [codec] } : {};
}
