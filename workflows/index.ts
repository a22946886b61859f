// The workflow bundle's entry: every workflow the worker registers.
export { actionRequestWorkflow } from './action-request-workflow';
