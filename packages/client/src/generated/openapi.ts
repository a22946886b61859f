// Generated from schema/openapi.json by openapi-typescript (`npm run generate`); do not edit.
export interface paths {
  '/.well-known/jwks.json': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Public keys that sign agent access tokens (EdDSA, by kid)
     * @description For resource servers that verify agent tokens themselves.
     */
    get: operations['jwks'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/.well-known/oauth-protected-resource': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * OAuth 2.0 protected resource metadata (RFC 9728) of the MCP endpoint
     * @description Names the resource (/mcp), its authorization server and the scopes (action names).
     */
    get: operations['protectedResourceMetadata'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/.well-known/receipt-jwks.json': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Public keys of approval receipts (Countersign-Receipt), for downstream services to verify
     * @description Ed25519 keys by kid; downstream services verify the receipt a connector call carries.
     */
    get: operations['receiptJwks'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/healthz': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Liveness
     * @description Answers while the process runs.
     */
    get: operations['health'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/mcp': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * MCP over Streamable HTTP: one tool per action the agent may request
     * @description JSON-RPC messages of the Model Context Protocol (initialize, tools/list, tools/call…). The first answer carries `Mcp-Session-Id`; send it with every later message. Authenticated with the agent’s access token; a 401 names the protected-resource metadata in `WWW-Authenticate`.
     */
    post: operations['mcp'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/metrics': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Prometheus metrics
     * @description Request, decision and execution counters and latencies; pending approvals.
     */
    get: operations['metrics'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/oauth/token': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * OAuth2 client credentials: an agent exchanges its client id and secret for a short-lived access token
     * @description Client authentication by HTTP Basic (client id = agent id) or the form fields client_id and client_secret. Errors follow RFC 6749 §5.2, not problem+json.
     */
    post: operations['issueAccessToken'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/openapi.json': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * This document
     * @description OpenAPI 3.1, with one request variant per catalog action (each usable as an LLM tool).
     */
    get: operations['openapi'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/readyz': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Readiness: Temporal reachable, a worker polling, and (with agent identity) the registry database answering
     * @description For load balancers: 503 until Temporal answers, a worker polls the control task queue and the registry database answers.
     */
    get: operations['readiness'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/action-requests': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List requests (an agent’s own; operators see all)
     * @description Newest first, from Temporal visibility; filter by status, action and (operators) agent.
     */
    get: operations['listActionRequests'];
    put?: never;
    /**
     * Request an action
     * @description Validates the envelope and the action’s parameters, decides by policy and starts the request’s durable workflow (denied requests included, so the trail is complete). Send an `Idempotency-Key`: a retry with the same key and body returns the same request (200) instead of starting another.
     */
    post: operations['submitActionRequest'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/action-requests/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Read a request
     * @description The request as its workflow sees it. With `wait` the answer is held until the request is terminal or the seconds pass (a long poll); call again to keep waiting.
     */
    get: operations['getActionRequest'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/action-requests/{id}/cancel': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Cancel a pending request
     * @description Its agent or an operator withdraws a request that still waits for approval; it ends `cancelled`.
     */
    post: operations['cancelActionRequest'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/action-requests/{id}/decisions': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Approve or reject (operators)
     * @description Records the decision of the operator whose token makes the call; the workflow checks they may decide and answers with its verdict (409 `decision_refused` when it refuses).
     */
    post: operations['decideActionRequest'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/agents': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The agent inventory: owner, risk tier, allowed actions, status, last activity (operators)
     * @description The agent inventory: owner, risk tier, allowed actions, status, last activity. Needs a personal operator token; the change is attributed to its owner.
     */
    get: operations['listAgents'];
    put?: never;
    /**
     * Register an agent; its first client secret is returned once (operators)
     * @description Register an agent; its first client secret is returned once. Needs a personal operator token; the change is attributed to its owner.
     */
    post: operations['createAgent'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/agents/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * An agent, its credentials (no secrets) and its change log (operators)
     * @description An agent, its credentials (no secrets) and its change log. Needs a personal operator token; the change is attributed to its owner.
     */
    get: operations['getAgent'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    /**
     * Change an agent (owner, allowed actions, risk tier, rate…) (operators)
     * @description Change an agent (owner, allowed actions, risk tier, rate…). Needs a personal operator token; the change is attributed to its owner.
     */
    patch: operations['updateAgent'];
    trace?: never;
  };
  '/v1/agents/{id}/credentials/rotate': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Issue a new client secret; the previous ones stay valid for the overlap (operators)
     * @description Issue a new client secret; the previous ones stay valid for the overlap. Needs a personal operator token; the change is attributed to its owner.
     */
    post: operations['rotateCredentials'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/agents/{id}/decommission': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Decommission an agent for good: every client secret is revoked (operators)
     * @description Decommission an agent for good: every client secret is revoked. Needs a personal operator token; the change is attributed to its owner.
     */
    post: operations['decommissionAgent'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/agents/{id}/resume': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Resume a suspended agent (operators)
     * @description Resume a suspended agent. Needs a personal operator token; the change is attributed to its owner.
     */
    post: operations['resumeAgent'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/agents/{id}/suspend': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Suspend an agent: its tokens are refused at once and nothing it asked for executes (operators)
     * @description Suspend an agent: its tokens are refused at once and nothing it asked for executes. Needs a personal operator token; the change is attributed to its owner.
     */
    post: operations['suspendAgent'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/kill-switches': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Kill switches on now, and with ?history=true the record (operators)
     * @description Kill switches on now, and with ?history=true the record. Needs a personal operator token; the change is attributed to its owner.
     */
    get: operations['listKillSwitches'];
    put?: never;
    /**
     * Pull a kill switch: new requests in scope are refused (403 with the reason), running ones are cancelled (operators)
     * @description Pull a kill switch: new requests in scope are refused (403 with the reason), running ones are cancelled. Needs a personal operator token; the change is attributed to its owner.
     */
    post: operations['engageKillSwitch'];
    /**
     * Lift the kill switches of exactly this scope (`countersign resume`) (operators)
     * @description Lift the kill switches of exactly this scope (`countersign resume`). Needs a personal operator token; the change is attributed to its owner.
     */
    delete: operations['liftKillSwitch'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/kill-switches/operations/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Progress of a kill switch’s cancellation of running requests (operators)
     * @description Progress of a kill switch’s cancellation of running requests. Needs a personal operator token; the change is attributed to its owner.
     */
    get: operations['getKillSwitchOperation'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/me': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Who the credential proves: an agent or an operator
     * @description So a CLI or an agent can say who it acts as.
     */
    get: operations['whoAmI'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/operator-tokens/{tokenId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /**
     * Revoke an operator token at once (operators)
     * @description Revoke an operator token at once. Needs a personal operator token; the change is attributed to its owner.
     */
    delete: operations['revokeOperatorToken'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/operators': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List operators (operators)
     * @description List operators. Needs a personal operator token; the change is attributed to its owner.
     */
    get: operations['listOperators'];
    put?: never;
    /**
     * Create an operator and their first personal token (shown once)
     * @description By an operator; or, while no operator exists, with COUNTERSIGN_ADMIN_TOKEN as the bearer (bootstrap).
     */
    post: operations['createOperator'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/operators/{id}/tokens': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Issue another personal token for oneself (operators)
     * @description Issue another personal token for oneself. Needs a personal operator token; the change is attributed to its owner.
     */
    post: operations['issueOperatorToken'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
export interface webhooks {
  requestEvent: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * A request reached pending_approval or its terminal status
     * @description Sent to the `callbackUrl` given at submit: once at `pending_approval` (requests that wait for people) and once at the terminal status. A delivery that is not answered 2xx within the timeout is retried with exponential backoff (`webhooks.firstRetryAfter`, doubling, for `webhooks.retryFor`); every retry carries the same `webhook-id` and body and a fresh timestamp and signature. Redirects are not followed.
     */
    post: operations['receiveRequestEvent'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
export interface components {
  schemas: {
    /** @description An action request and where it stands. */
    ActionRequest: {
      action: string;
      /** @description Id of the agent that asked. */
      agent: string;
      /** @description Who cancelled the request and why: an agent, an operator, a kill switch, or `temporal`. */
      cancellation?: {
        at: string;
        by: string;
        reason?: string;
      };
      decision: {
        approvals: {
          /** @description People who approved so far. */
          approvedBy: string[];
          escalated: boolean;
          /** @description Approver group. */
          group: string;
          /** @description Distinct people of the group who must approve. */
          quorum: number;
          satisfied: boolean;
        }[];
        /**
         * @description The effect that governs the request.
         * @enum {string}
         */
        effect: 'allow' | 'deny' | 'require_approval';
        /**
         * @description What the rules produced (differs from `effect` in shadow mode).
         * @enum {string}
         */
        evaluatedEffect: 'allow' | 'deny' | 'require_approval';
        /** @enum {string} */
        mode: 'enforce' | 'shadow';
        policyVersion: string;
        /** @description For deny: why. */
        reason?: string;
        /** @description Ids of every rule that matched. */
        rules: string[];
      };
      /** @description When a pending request expires. */
      expiresAt?: string;
      /** @description Request id (also the workflow id). */
      id: string;
      links: {
        cancel: string;
        self: string;
        /** @description The workflow in the Temporal Web UI. */
        temporalUi?: string;
      };
      onBehalfOf?: string;
      outcome?: {
        ok: boolean;
        /** @description Downstream HTTP status. */
        status?: number;
        /** @description Size-bounded, secret-free summary of the downstream response. */
        summary: string;
        /** @description True when the call may have reached the downstream and was not re-sent: reconcile by hand. */
        unknown?: boolean;
      };
      /** @description sha256 over the canonical JSON (RFC 8785) of the parameters; params are not echoed. */
      paramsHash: string;
      /** @description On a decision’s answer: true when no worker was running and the rejection was queued durably. */
      queued?: boolean;
      reason: string;
      /** @description Every accepted rejection: who, why and when (a rejection ends the request as `rejected`). */
      rejections: {
        /** @description When the workflow recorded it. */
        at: string;
        /** @description The approver who rejected. */
        by: string;
        /**
         * @description Where it was made.
         * @enum {string}
         */
        channel: 'slack' | 'api' | 'cli';
        /** @description Why, in their words (shown to the agent and the other approvers). */
        reason?: string;
      }[];
      /** @enum {string} */
      risk: 'low' | 'medium' | 'high' | 'critical';
      /** @description True when no worker answered: the status is current (from Temporal’s search attributes) but decisions and timeline are as at submit. */
      stale?: boolean;
      /**
       * @description Status of a request.
       * @enum {string}
       */
      status:
        | 'pending_approval'
        | 'approved'
        | 'executing'
        | 'succeeded'
        | 'failed'
        | 'denied'
        | 'rejected'
        | 'expired'
        | 'cancelled'
        | 'terminated';
      submittedAt: string;
      /** @description Where the action lands; ids only, never secrets. */
      target?: {
        /** @description Its environment (e.g. "production"). */
        environment?: string;
        /** @description The resource acted on (e.g. a customer id). */
        resource?: string;
        /** @description The system the action lands in (e.g. "billing"). */
        system?: string;
      };
      timeline: {
        at: string;
        detail?: string;
        event: string;
      }[];
    };
    /**
     * customers.delete
     * @description Delete a customer and their data. (risk: critical)
     */
    'ActionRequest.customers.delete': {
      /**
       * @description The action. (enum property replaced by openapi-typescript)
       * @enum {string}
       */
      action: 'customers.delete';
      /** @description Where Countersign POSTs this request’s signed webhook events (`request.pending_approval` and the terminal one; see `webhooks`). https to a public address, unless the deployment allow-lists the host; no credentials in the URL (receivers verify the signature). */
      callbackUrl?: string;
      /** @description The person the agent acts for (person id, email or Slack user id); they may not approve it. */
      onBehalfOf?: string;
      params: components['schemas']['customers.delete.params'];
      /** @description Why the agent asks; shown to approvers after the facts. */
      reason: string;
      target?: components['schemas']['ActionTarget'];
    };
    /**
     * customers.read
     * @description Read a customer record. (risk: low)
     */
    'ActionRequest.customers.read': {
      /**
       * @description The action. (enum property replaced by openapi-typescript)
       * @enum {string}
       */
      action: 'customers.read';
      /** @description Where Countersign POSTs this request’s signed webhook events (`request.pending_approval` and the terminal one; see `webhooks`). https to a public address, unless the deployment allow-lists the host; no credentials in the URL (receivers verify the signature). */
      callbackUrl?: string;
      /** @description The person the agent acts for (person id, email or Slack user id); they may not approve it. */
      onBehalfOf?: string;
      params: components['schemas']['customers.read.params'];
      /** @description Why the agent asks; shown to approvers after the facts. */
      reason: string;
      target?: components['schemas']['ActionTarget'];
    };
    /**
     * email.send_external
     * @description Send an email to an address outside the company. (risk: medium)
     */
    'ActionRequest.email.send_external': {
      /**
       * @description The action. (enum property replaced by openapi-typescript)
       * @enum {string}
       */
      action: 'email.send_external';
      /** @description Where Countersign POSTs this request’s signed webhook events (`request.pending_approval` and the terminal one; see `webhooks`). https to a public address, unless the deployment allow-lists the host; no credentials in the URL (receivers verify the signature). */
      callbackUrl?: string;
      /** @description The person the agent acts for (person id, email or Slack user id); they may not approve it. */
      onBehalfOf?: string;
      params: components['schemas']['email.send_external.params'];
      /** @description Why the agent asks; shown to approvers after the facts. */
      reason: string;
      target?: components['schemas']['ActionTarget'];
    };
    /**
     * payments.refund
     * @description Refund part or all of a captured payment. (risk: high)
     */
    'ActionRequest.payments.refund': {
      /**
       * @description The action. (enum property replaced by openapi-typescript)
       * @enum {string}
       */
      action: 'payments.refund';
      /** @description Where Countersign POSTs this request’s signed webhook events (`request.pending_approval` and the terminal one; see `webhooks`). https to a public address, unless the deployment allow-lists the host; no credentials in the URL (receivers verify the signature). */
      callbackUrl?: string;
      /** @description The person the agent acts for (person id, email or Slack user id); they may not approve it. */
      onBehalfOf?: string;
      params: components['schemas']['payments.refund.params'];
      /** @description Why the agent asks; shown to approvers after the facts. */
      reason: string;
      target?: components['schemas']['ActionTarget'];
    };
    ActionRequestList: {
      items: {
        action: string;
        agent: string;
        closedAt?: string;
        id: string;
        links: {
          cancel: string;
          self: string;
          /** @description The workflow in the Temporal Web UI. */
          temporalUi?: string;
        };
        /**
         * @description `unknown`: the execution failed with outcome unknown (the call may have arrived; reconcile by hand).
         * @enum {string}
         */
        outcome?: 'unknown';
        risk?: string;
        /**
         * @description Status of a request.
         * @enum {string}
         */
        status:
          | 'pending_approval'
          | 'approved'
          | 'executing'
          | 'succeeded'
          | 'failed'
          | 'denied'
          | 'rejected'
          | 'expired'
          | 'cancelled'
          | 'terminated';
        submittedAt: string;
      }[];
    };
    /** @description Where the action lands; ids only, never secrets. */
    ActionTarget: {
      /** @description Its environment (e.g. "production"). */
      environment?: string;
      /** @description The resource acted on (e.g. a customer id). */
      resource?: string;
      /** @description The system the action lands in (e.g. "billing"). */
      system?: string;
    };
    /** @description An agent of the registry. */
    Agent: {
      allowedActions: string[];
      createdAt: string;
      createdBy: string;
      description: string;
      id: string;
      /** @description Last token issued or request authenticated (to the minute). */
      lastActiveAt?: string;
      name: string;
      owner: string;
      rateLimit?: string;
      /** @enum {string} */
      riskTier: 'low' | 'medium' | 'high' | 'critical';
      /** @enum {string} */
      source: 'config' | 'operator';
      /** @enum {string} */
      status: 'active' | 'suspended' | 'decommissioned';
      statusReason?: string;
      updatedAt: string;
    };
    /** @description The new agent and its first client secret. */
    AgentCreated: {
      agent: components['schemas']['Agent'];
      credentials: components['schemas']['IssuedClientSecret'];
    };
    /** @description An agent, its credentials and its change log. */
    AgentDetail: {
      agent: components['schemas']['Agent'];
      changes: {
        actor: string;
        /** @description The agent changed. */
        agentId: string;
        at: string;
        change: string;
        details: {
          [key: string]: unknown;
        };
        id: number;
      }[];
      credentials: {
        active: boolean;
        createdAt: string;
        createdBy: string;
        expiresAt?: string;
        id: string;
        revokedAt?: string;
      }[];
    };
    /** @description The agent inventory. */
    AgentList: {
      items: components['schemas']['Agent'][];
    };
    /** @description Fields to change; every change is logged with its old and new value. */
    AgentPatch: {
      allowedActions?: string[];
      description?: string;
      name?: string;
      owner?: string;
      /** @description null returns the agent to the deployment default. */
      rateLimit?: string | null;
      /** @enum {string} */
      riskTier?: 'low' | 'medium' | 'high' | 'critical';
    };
    /** @description Suspends, resumes or decommissions an agent. */
    AgentStatusChange: {
      /** @description Why; kept in the change log. */
      reason?: string;
    };
    /** @description Cancels a pending request. */
    CancelRequest: {
      /** @description Why the request is withdrawn. */
      reason?: string;
    };
    /**
     * customers.delete parameters
     * @description Delete a customer and their data.
     */
    'customers.delete.params': {
      customerId: string;
    };
    /**
     * customers.read parameters
     * @description Read a customer record.
     */
    'customers.read.params': {
      customerId: string;
    };
    /** @description A decision by the operator whose token makes the call; the workflow checks they may decide. */
    DecisionRequest: {
      /** @description Optional: the decision is always recorded as the operator token’s owner; a different person id is refused (403). */
      approver?: string;
      /**
       * @description Where the decision was made. Default: "api".
       * @enum {string}
       */
      channel?: 'api' | 'cli';
      /**
       * @description Approve or reject.
       * @enum {string}
       */
      decision: 'approve' | 'reject';
      /** @description Why; recorded in the history. */
      reason?: string;
    };
    /**
     * email.send_external parameters
     * @description Send an email to an address outside the company.
     */
    'email.send_external.params': {
      body: string;
      subject: string;
      /** Format: email */
      to: string;
    };
    Health: {
      /** @constant */
      status: 'ok';
    };
    /** @description A new client secret. */
    IssuedClientSecret: {
      clientId: string;
      /** @description Shown once; stored only as a hash. */
      clientSecret: string;
      credentialId: string;
      /** @description When the previous secrets stop working (rotation). */
      previousValidUntil?: string;
    };
    /** @description A personal operator token. */
    IssuedOperatorToken: {
      operatorId: string;
      /** @description Shown once; stored only as a hash. */
      token: string;
      tokenId: string;
    };
    /** @description A JSON Web Key Set (public keys only). */
    JWKS: {
      keys: {
        [key: string]: unknown;
      }[];
    };
    /** @description A kill switch. */
    KillSwitch: {
      engagedAt: string;
      engagedBy: string;
      id: string;
      liftedAt?: string;
      liftedBy?: string;
      liftReason?: string;
      reason: string;
      scope: {
        action?: string;
        agentId?: string;
      };
    };
    /** @description The switch, how many running requests it reaches, and the operation that cancels them. */
    KillSwitchEngaged: {
      /** @description False when the same scope was already switched off. */
      created: boolean;
      /** @description Running requests in scope when the switch was pulled. */
      inScope: number;
      killSwitch: components['schemas']['KillSwitch'];
      /** @description Cancelling drains after the answer; read its progress here. */
      operation: {
        /** @description Where its progress is read. */
        href: string;
        /** @description The operation that cancels them. */
        id: string;
      };
    };
    /** @description Lifts the kill switches of exactly this scope. */
    KillSwitchLift: {
      /** @description One action, or a family ending in `*` (`payments.*`). */
      action?: string;
      /** @description One agent. */
      agent?: string;
      /** @description Every agent and action (stands alone). */
      all?: boolean;
      /** @description Why it is lifted. */
      reason?: string;
    };
    /** @description The switches lifted. */
    KillSwitchLifted: {
      lifted: components['schemas']['KillSwitch'][];
    };
    /** @description Switches on now (and the record when asked). */
    KillSwitchList: {
      active: components['schemas']['KillSwitch'][];
      history?: components['schemas']['KillSwitch'][];
    };
    /** @description Progress of a kill switch’s cancellation of the running requests in its scope. */
    KillSwitchOperation: {
      closedAt?: string;
      /** @description Requests sent the cancellation so far. */
      completed: number;
      /** @description Requests that could not be sent it (closed meanwhile, say). */
      failed: number;
      id: string;
      startedAt?: string;
      /** @enum {string} */
      state: 'running' | 'completed' | 'failed' | 'unknown';
      /** @description Requests the operation reaches. */
      total: number;
    };
    /** @description Pulls a kill switch: an agent, an action, an agent’s action, or everything. */
    KillSwitchRequest: {
      /** @description One action, or a family ending in `*` (`payments.*`). */
      action?: string;
      /** @description One agent. */
      agent?: string;
      /** @description Every agent and action (stands alone). */
      all?: boolean;
      /** @description Why; shown to agents refused by it and kept in the record. */
      reason: string;
    };
    /** @description A new agent; its first client secret is returned once. */
    NewAgent: {
      /** @description Actions the agent may request. */
      allowedActions: string[];
      description?: string;
      /** @description Agent id (the OAuth2 client id): lowercase letters, digits, ".", "_", "-". */
      id: string;
      name?: string;
      /** @description The person accountable for the agent (a key of `people`). */
      owner: string;
      /** @description Request rate of the agent: "60/m", "10/s", "1000/h" (token bucket, burst = the count). */
      rateLimit?: string;
      /**
       * @description Default medium.
       * @enum {string}
       */
      riskTier?: 'low' | 'medium' | 'high' | 'critical';
    };
    /** @description A new operator; the first one is created with the bootstrap token COUNTERSIGN_ADMIN_TOKEN. */
    NewOperator: {
      /** @description A person of the config (`people`). */
      id: string;
      name?: string;
    };
    /** @description Another personal token for the calling operator. */
    NewOperatorToken: {
      /** @description What the token is for (a laptop, CI). */
      label?: string;
    };
    /** @description RFC 6749 §5.2 error response. */
    OAuthError: {
      /** @enum {string} */
      error: 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unsupported_grant_type' | 'invalid_scope';
      error_description: string;
    };
    /** @description Operators. */
    OperatorList: {
      items: {
        createdAt: string;
        createdBy: string;
        disabled: boolean;
        id: string;
        name: string;
      }[];
    };
    /**
     * payments.refund parameters
     * @description Refund part or all of a captured payment.
     */
    'payments.refund.params': {
      /** @description Amount in major units (dollars). */
      amount: number;
      /** @enum {string} */
      currency: 'USD' | 'EUR' | 'GBP';
      note?: string;
      /** @description Payment to refund. */
      paymentId: string;
    };
    /** @description RFC 9457 problem details (application/problem+json). */
    Problem: {
      /**
       * @description Stable error code clients can match on.
       * @enum {string}
       */
      code:
        | 'bad_request'
        | 'malformed_json'
        | 'invalid_encoding'
        | 'invalid_text'
        | 'nesting_too_deep'
        | 'request_timeout'
        | 'payload_too_large'
        | 'unsupported_media_type'
        | 'unauthorized'
        | 'forbidden'
        | 'not_found'
        | 'conflict'
        | 'idempotency_mismatch'
        | 'unknown_action'
        | 'invalid_params'
        | 'validation_failed'
        | 'decision_refused'
        | 'rate_limited'
        | 'not_ready'
        | 'config_invalid'
        | 'internal';
      detail: string;
      /** @description Every problem, with its field path. */
      errors: {
        message: string;
        path: string;
      }[];
      /** @description The request path. */
      instance: string;
      status: number;
      title: string;
      /** @description URI naming the problem type. */
      type: string;
    };
    Readiness: {
      checks: {
        [key: string]: string;
      };
      ready: boolean;
    };
    /** @description Issues a new client secret. */
    RotateCredentials: {
      /** @description How long the previous secrets stay valid (default: COUNTERSIGN_SECRET_ROTATION_OVERLAP). */
      overlapSeconds?: number;
    };
    /** @description An action request: one variant per action of the catalog, keyed by `action`. */
    SubmitActionRequest:
      | components['schemas']['ActionRequest.payments.refund']
      | components['schemas']['ActionRequest.email.send_external']
      | components['schemas']['ActionRequest.customers.read']
      | components['schemas']['ActionRequest.customers.delete'];
    /** @description OAuth2 client credentials token request (application/x-www-form-urlencoded). */
    TokenRequest: {
      /** @description The agent id (or use HTTP Basic). */
      client_id?: string;
      /** @description The agent’s client secret (or use HTTP Basic). */
      client_secret?: string;
      /**
       * @description Only the client credentials grant.
       * @constant
       */
      grant_type: 'client_credentials';
      /** @description Space-separated actions to grant; default: every action the agent may request. */
      scope?: string;
    };
    /** @description An access token. */
    TokenResponse: {
      /** @description An EdDSA JWT (typ at+jwt): sub = agent id, aud, iss, scope, jti; at most 15 min. */
      access_token: string;
      /** @description Seconds until it expires. */
      expires_in: number;
      /** @description The actions granted, space-separated. */
      scope: string;
      /** @constant */
      token_type: 'Bearer';
    };
    /** @description A completion webhook event. Signed per Standard Webhooks: verify `webhook-signature` over `${webhook-id}.${webhook-timestamp}.${body}` with the agent’s `whsec_` secret, and de-duplicate on `webhook-id`. */
    WebhookEvent: {
      data: {
        action: string;
        /** @description The agent that asked (whose secret signs the event). */
        agent: string;
        /** @description People whose approvals counted. */
        approvedBy?: string[];
        cancellation?: {
          by: string;
          reason?: string;
        };
        decision: {
          /** @enum {string} */
          effect: 'allow' | 'deny' | 'require_approval';
          policyVersion: string;
          /** @description For deny: why. */
          reason?: string;
          rules: string[];
        };
        /** @description For `pending_approval`: when the request expires. */
        expiresAt?: string;
        /** @description The execution’s outcome, when it ran (or was blocked). */
        outcome?: {
          ok: boolean;
          /** @description Downstream HTTP status. */
          status?: number;
          /** @description Size-bounded, secret-free summary of the downstream response. */
          summary: string;
          /** @description True when the call may have reached the downstream and was not re-sent: reconcile by hand. */
          unknown?: boolean;
        };
        /** @description sha256 of the canonical parameters; parameters are never sent. */
        paramsHash: string;
        rejection?: {
          by: string;
          reason?: string;
        };
        requestId: string;
        /** @enum {string} */
        risk: 'low' | 'medium' | 'high' | 'critical';
        /** @enum {string} */
        status: 'pending_approval' | 'succeeded' | 'failed' | 'denied' | 'rejected' | 'expired' | 'cancelled';
        submittedAt: string;
        /** @description For `pending_approval`: the groups whose quorum is not met yet. */
        waitingFor?: {
          approvedBy: string[];
          group: string;
          quorum: number;
        }[];
      };
      /** @description When the request reached the status (ISO 8601). */
      timestamp: string;
      /**
       * @description `request.<status>`: `request.pending_approval`, then one terminal event.
       * @enum {string}
       */
      type:
        | 'request.pending_approval'
        | 'request.succeeded'
        | 'request.failed'
        | 'request.denied'
        | 'request.rejected'
        | 'request.expired'
        | 'request.cancelled';
    };
  };
  responses: {
    /** @description A client error (an unknown route or method, say). */
    P4XX: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/problem+json': components['schemas']['Problem'];
      };
    };
    /** @description Bad request: malformed JSON, a body that is not valid UTF-8 (`invalid_encoding`), bad query or header. */
    P400: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/problem+json': components['schemas']['Problem'];
      };
    };
    /** @description Missing or unknown credential. */
    P401: {
      headers: {
        'WWW-Authenticate': components['headers']['WWW-Authenticate'];
        [name: string]: unknown;
      };
      content: {
        'application/problem+json': components['schemas']['Problem'];
      };
    };
    /** @description The caller may not do this (action outside the agent’s allowed actions or token scope, a kill switch on, an operator-only endpoint). */
    P403: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/problem+json': components['schemas']['Problem'];
      };
    };
    /** @description No such request or agent (or not the caller’s). */
    P404: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/problem+json': components['schemas']['Problem'];
      };
    };
    /** @description The Accept header does not take what the endpoint answers. */
    P406: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/problem+json': components['schemas']['Problem'];
      };
    };
    /** @description The request headers (10 s) or the whole request (30 s) did not arrive in time (`request_timeout`); the connection is closed. */
    P408: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/problem+json': components['schemas']['Problem'];
      };
    };
    /** @description The request or agent is not in a state that allows this, or it exists already. */
    P409: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/problem+json': components['schemas']['Problem'];
      };
    };
    /** @description Body larger than 64 KiB. */
    P413: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/problem+json': components['schemas']['Problem'];
      };
    };
    /** @description Body not application/json. */
    P415: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/problem+json': components['schemas']['Problem'];
      };
    };
    /** @description Unknown action, parameters failing the action’s schema, an Idempotency-Key reused with another body, a body nested deeper than 64 levels (`nesting_too_deep`, naming the path) or holding a lone UTF-16 surrogate (`invalid_text`). */
    P422: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/problem+json': components['schemas']['Problem'];
      };
    };
    /** @description The agent is over its request rate; `Retry-After` says when to retry. */
    P429: {
      headers: {
        'Retry-After': components['headers']['Retry-After'];
        [name: string]: unknown;
      };
      content: {
        'application/problem+json': components['schemas']['Problem'];
      };
    };
    /** @description Temporal or the workers are not available; retry after `Retry-After` seconds. */
    P503: {
      headers: {
        'Retry-After': components['headers']['Retry-After'];
        [name: string]: unknown;
      };
      content: {
        'application/problem+json': components['schemas']['Problem'];
      };
    };
  };
  parameters: never;
  requestBodies: never;
  headers: {
    /** @description Seconds to wait before retrying. */
    'Retry-After': number;
    /** @description RFC 6750 Bearer challenge; `resource_metadata` names the RFC 9728 protected-resource metadata document. */
    'WWW-Authenticate': string;
  };
  pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
  jwks: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      '4XX': components['responses']['P4XX'];
      /** @description JWKS. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['JWKS'];
        };
      };
    };
  };
  protectedResourceMetadata: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      '4XX': components['responses']['P4XX'];
      /** @description RFC 9728 metadata. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            authorization_servers: string[];
            bearer_methods_supported?: string[];
            resource: string;
            scopes_supported?: string[];
          };
        };
      };
    };
  };
  receiptJwks: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      '4XX': components['responses']['P4XX'];
      /** @description JWKS. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['JWKS'];
        };
      };
    };
  };
  health: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      '4XX': components['responses']['P4XX'];
      /** @description Alive. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Health'];
        };
      };
    };
  };
  mcp: {
    parameters: {
      query?: never;
      header?: {
        /** @description The session, after initialize. */
        'Mcp-Session-Id'?: string;
      };
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': {
          [key: string]: unknown;
        };
      };
    };
    responses: {
      /** @description A JSON-RPC response, or an event stream of them. */
      200: {
        headers: {
          /** @description The new session. */
          'Mcp-Session-Id'?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            [key: string]: unknown;
          };
          'text/event-stream': string;
        };
      };
      /** @description A notification or response taken in. */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      400: components['responses']['P400'];
      401: components['responses']['P401'];
      404: components['responses']['P404'];
      406: components['responses']['P406'];
      413: components['responses']['P413'];
      415: components['responses']['P415'];
    };
  };
  metrics: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      '4XX': components['responses']['P4XX'];
      /** @description Prometheus text format. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/plain': string;
        };
      };
    };
  };
  issueAccessToken: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/x-www-form-urlencoded': components['schemas']['TokenRequest'];
      };
    };
    responses: {
      /** @description An access token (Cache-Control: no-store). */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['TokenResponse'];
        };
      };
      /** @description invalid_request, unsupported_grant_type or invalid_scope. */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OAuthError'];
        };
      };
      /** @description invalid_client: unknown agent, wrong, expired or revoked secret, agent not active. */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OAuthError'];
        };
      };
    };
  };
  openapi: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      '4XX': components['responses']['P4XX'];
      /** @description OpenAPI 3.1 */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            [key: string]: unknown;
          };
        };
      };
    };
  };
  readiness: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      '4XX': components['responses']['P4XX'];
      /** @description Ready. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Readiness'];
        };
      };
      /** @description Not ready. */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Readiness'];
        };
      };
    };
  };
  listActionRequests: {
    parameters: {
      query?: {
        /** @description One action’s requests. */
        action?: string;
        /** @description Operators only: one agent’s requests. */
        agent?: string;
        /** @description At most this many, newest first (default 50). */
        limit?: number;
        status?:
          | 'pending_approval'
          | 'approved'
          | 'executing'
          | 'succeeded'
          | 'failed'
          | 'denied'
          | 'rejected'
          | 'expired'
          | 'cancelled'
          | 'terminated';
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Requests, newest first. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ActionRequestList'];
        };
      };
      400: components['responses']['P400'];
      401: components['responses']['P401'];
      503: components['responses']['P503'];
    };
  };
  submitActionRequest: {
    parameters: {
      query?: {
        /** @description Hold the response until the request is terminal or this many seconds (at most 30) pass. */
        wait?: number;
      };
      header?: {
        /** @description Same key and same body return the same request; same key with another body is refused (422). */
        'Idempotency-Key'?: string;
      };
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['SubmitActionRequest'];
      };
    };
    responses: {
      /** @description Replay: the request this Idempotency-Key made before. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ActionRequest'];
        };
      };
      /** @description Accepted: a new request (denied ones included). */
      201: {
        headers: {
          /** @description The new request. */
          Location?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ActionRequest'];
        };
      };
      400: components['responses']['P400'];
      401: components['responses']['P401'];
      403: components['responses']['P403'];
      408: components['responses']['P408'];
      413: components['responses']['P413'];
      415: components['responses']['P415'];
      422: components['responses']['P422'];
      429: components['responses']['P429'];
      503: components['responses']['P503'];
    };
  };
  getActionRequest: {
    parameters: {
      query?: {
        /** @description Hold the response until the request is terminal or this many seconds (at most 30) pass. */
        wait?: number;
      };
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The request, with each rejection’s who, reason and time. Closed requests are read from the workflow’s result (no worker needed); a terminated workflow reads `terminated`; a running request with no worker answering is read from its search attributes and memo and marked `stale`. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ActionRequest'];
        };
      };
      400: components['responses']['P400'];
      401: components['responses']['P401'];
      404: components['responses']['P404'];
      503: components['responses']['P503'];
    };
  };
  cancelActionRequest: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': components['schemas']['CancelRequest'];
      };
    };
    responses: {
      /** @description The cancelled request. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ActionRequest'];
        };
      };
      400: components['responses']['P400'];
      401: components['responses']['P401'];
      404: components['responses']['P404'];
      408: components['responses']['P408'];
      409: components['responses']['P409'];
      415: components['responses']['P415'];
      422: components['responses']['P422'];
      503: components['responses']['P503'];
    };
  };
  decideActionRequest: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['DecisionRequest'];
      };
    };
    responses: {
      /** @description The workflow’s verdict: the request after the decision (a refusal is 409, and recorded). */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ActionRequest'];
        };
      };
      /** @description No worker is running: the rejection is queued durably (`queued: true`) and recorded when one runs again. */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ActionRequest'];
        };
      };
      400: components['responses']['P400'];
      401: components['responses']['P401'];
      403: components['responses']['P403'];
      404: components['responses']['P404'];
      408: components['responses']['P408'];
      409: components['responses']['P409'];
      415: components['responses']['P415'];
      422: components['responses']['P422'];
      503: components['responses']['P503'];
    };
  };
  listAgents: {
    parameters: {
      query?: {
        /** @description Only agents this person owns. */
        owner?: string;
        /** @description Only agents with this status. */
        status?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Agents by id. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['AgentList'];
        };
      };
      400: components['responses']['P400'];
      401: components['responses']['P401'];
      403: components['responses']['P403'];
      503: components['responses']['P503'];
    };
  };
  createAgent: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['NewAgent'];
      };
    };
    responses: {
      /** @description The agent and its client credentials. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['AgentCreated'];
        };
      };
      400: components['responses']['P400'];
      401: components['responses']['P401'];
      403: components['responses']['P403'];
      409: components['responses']['P409'];
      415: components['responses']['P415'];
      422: components['responses']['P422'];
      503: components['responses']['P503'];
    };
  };
  getAgent: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Agent id. */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The agent. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['AgentDetail'];
        };
      };
      401: components['responses']['P401'];
      403: components['responses']['P403'];
      404: components['responses']['P404'];
      503: components['responses']['P503'];
    };
  };
  updateAgent: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Agent id. */
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['AgentPatch'];
      };
    };
    responses: {
      /** @description The agent after the change. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Agent'];
        };
      };
      400: components['responses']['P400'];
      401: components['responses']['P401'];
      403: components['responses']['P403'];
      404: components['responses']['P404'];
      409: components['responses']['P409'];
      415: components['responses']['P415'];
      422: components['responses']['P422'];
      503: components['responses']['P503'];
    };
  };
  rotateCredentials: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Agent id. */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': components['schemas']['RotateCredentials'];
      };
    };
    responses: {
      /** @description The new secret, shown once. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['IssuedClientSecret'];
        };
      };
      400: components['responses']['P400'];
      401: components['responses']['P401'];
      403: components['responses']['P403'];
      404: components['responses']['P404'];
      409: components['responses']['P409'];
      415: components['responses']['P415'];
      422: components['responses']['P422'];
      503: components['responses']['P503'];
    };
  };
  decommissionAgent: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Agent id. */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': components['schemas']['AgentStatusChange'];
      };
    };
    responses: {
      /** @description The agent. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Agent'];
        };
      };
      400: components['responses']['P400'];
      401: components['responses']['P401'];
      403: components['responses']['P403'];
      404: components['responses']['P404'];
      409: components['responses']['P409'];
      415: components['responses']['P415'];
      422: components['responses']['P422'];
      503: components['responses']['P503'];
    };
  };
  resumeAgent: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Agent id. */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': components['schemas']['AgentStatusChange'];
      };
    };
    responses: {
      /** @description The agent. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Agent'];
        };
      };
      400: components['responses']['P400'];
      401: components['responses']['P401'];
      403: components['responses']['P403'];
      404: components['responses']['P404'];
      409: components['responses']['P409'];
      415: components['responses']['P415'];
      422: components['responses']['P422'];
      503: components['responses']['P503'];
    };
  };
  suspendAgent: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Agent id. */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': components['schemas']['AgentStatusChange'];
      };
    };
    responses: {
      /** @description The agent. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Agent'];
        };
      };
      400: components['responses']['P400'];
      401: components['responses']['P401'];
      403: components['responses']['P403'];
      404: components['responses']['P404'];
      409: components['responses']['P409'];
      415: components['responses']['P415'];
      422: components['responses']['P422'];
      503: components['responses']['P503'];
    };
  };
  listKillSwitches: {
    parameters: {
      query?: {
        /** @description Also list lifted switches, newest first (the record). */
        history?: 'true' | 'false';
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Switches. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['KillSwitchList'];
        };
      };
      400: components['responses']['P400'];
      401: components['responses']['P401'];
      403: components['responses']['P403'];
      503: components['responses']['P503'];
    };
  };
  engageKillSwitch: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['KillSwitchRequest'];
      };
    };
    responses: {
      /** @description Switched off (or already off: `created` false, and running requests are cancelled again). Answered at once; the running requests in scope are cancelled by an operation whose progress is at `operation.href`. */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['KillSwitchEngaged'];
        };
      };
      400: components['responses']['P400'];
      401: components['responses']['P401'];
      403: components['responses']['P403'];
      415: components['responses']['P415'];
      422: components['responses']['P422'];
      503: components['responses']['P503'];
    };
  };
  liftKillSwitch: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['KillSwitchLift'];
      };
    };
    responses: {
      /** @description The switches lifted. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['KillSwitchLifted'];
        };
      };
      400: components['responses']['P400'];
      401: components['responses']['P401'];
      403: components['responses']['P403'];
      404: components['responses']['P404'];
      415: components['responses']['P415'];
      422: components['responses']['P422'];
      503: components['responses']['P503'];
    };
  };
  getKillSwitchOperation: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The operation’s progress. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['KillSwitchOperation'];
        };
      };
      401: components['responses']['P401'];
      403: components['responses']['P403'];
      404: components['responses']['P404'];
      503: components['responses']['P503'];
    };
  };
  whoAmI: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The caller. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            id: string;
            /** @enum {unknown} */
            kind: 'agent' | 'operator';
          };
        };
      };
      401: components['responses']['P401'];
      503: components['responses']['P503'];
    };
  };
  revokeOperatorToken: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        tokenId: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Revoked. */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      401: components['responses']['P401'];
      403: components['responses']['P403'];
      404: components['responses']['P404'];
      503: components['responses']['P503'];
    };
  };
  listOperators: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Operators. */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['OperatorList'];
        };
      };
      401: components['responses']['P401'];
      403: components['responses']['P403'];
      503: components['responses']['P503'];
    };
  };
  createOperator: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['NewOperator'];
      };
    };
    responses: {
      /** @description The operator’s token. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['IssuedOperatorToken'];
        };
      };
      400: components['responses']['P400'];
      401: components['responses']['P401'];
      403: components['responses']['P403'];
      409: components['responses']['P409'];
      415: components['responses']['P415'];
      422: components['responses']['P422'];
      503: components['responses']['P503'];
    };
  };
  issueOperatorToken: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        id: string;
      };
      cookie?: never;
    };
    requestBody?: {
      content: {
        'application/json': components['schemas']['NewOperatorToken'];
      };
    };
    responses: {
      /** @description The token, shown once. */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['IssuedOperatorToken'];
        };
      };
      400: components['responses']['P400'];
      401: components['responses']['P401'];
      403: components['responses']['P403'];
      404: components['responses']['P404'];
      409: components['responses']['P409'];
      415: components['responses']['P415'];
      422: components['responses']['P422'];
      503: components['responses']['P503'];
    };
  };
  receiveRequestEvent: {
    parameters: {
      query?: never;
      header: {
        /** @description Stable per request and status (`msg_<hex>_<status>`): de-duplicate on it. */
        'webhook-id': string;
        /** @description `v1,<base64 HMAC-SHA256>` over `${webhook-id}.${webhook-timestamp}.${body}`, keyed by the agent’s secret (base64 after `whsec_`); space-separated when several are sent. */
        'webhook-signature': string;
        /** @description Unix seconds of this attempt; refuse ones far from your clock (5 minutes). */
        'webhook-timestamp': string;
      };
      path?: never;
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['WebhookEvent'];
      };
    };
    responses: {
      /** @description Received; not sent again. */
      '2XX': {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Refused; retried until the retry window has passed. */
      '4XX': {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description Failed; retried with backoff. */
      '5XX': {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
    };
  };
}
