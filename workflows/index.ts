// The workflow bundle's entry: every workflow the worker registers.
export { actionRequestWorkflow } from './action-request-workflow';
export { webhookDeliveryWorkflow } from './webhook-delivery-workflow';
