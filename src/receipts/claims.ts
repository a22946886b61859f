// What an approval receipt says. Shared by the signer (in the connector activity) and the verifier (downstream).

/** The HTTP header that carries the receipt on every downstream call Countersign makes. */
export const RECEIPT_HEADER = 'Countersign-Receipt';

/** JWS `typ` of a receipt, so no other token signed with a related key passes as one. */
export const RECEIPT_TYPE = 'countersign-receipt+jwt';

/** Longest lifetime a receipt may have, signed or accepted. */
export const MAX_RECEIPT_TTL_SECONDS = 60;

/** Where the action lands: the request's stated target plus the call Countersign actually makes. */
export interface ReceiptTarget {
  system?: string;
  environment?: string;
  resource?: string;
  /** The connector (credential domain) that executes the action. */
  connector: string;
  /** HTTP method and URL of the downstream call. */
  method?: string;
  url?: string;
}

/** The JWT claims of a receipt. Names are snake_case like registered JWT claims. */
export interface ReceiptClaims {
  iss: string;
  /** The downstream's origin (`https://billing.internal`), or the connector name when no URL is known. */
  aud: string;
  /** The agent that requested the action. */
  sub: string;
  iat: number;
  exp: number;
  /** Unique per receipt (one per attempt). */
  jti: string;
  request_id: string;
  action: string;
  /** `sha256:<hex>` over the RFC 8785 canonical JSON of the parameters. */
  params_hash: string;
  /** People whose approvals let the request execute; empty when policy allowed it. */
  approvers: string[];
  policy_version: string;
  target: ReceiptTarget;
}
