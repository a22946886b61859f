// Links from Slack into the operators' tools.

/** The request's workflow page in the Temporal Web UI, or undefined when no UI URL is known. */
export function temporalWorkflowUrl(
  uiBaseUrl: string | undefined,
  namespace: string,
  workflowId: string,
): string | undefined {
  if (!uiBaseUrl) return undefined;
  const base = uiBaseUrl.replace(/\/+$/, '');
  return `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
