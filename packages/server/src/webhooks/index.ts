// Webhooks (issue 16): what embedders and library mode use.
export type { WebhookEndpoint, WebhookEvent } from './types.js';
export { WEBHOOK_EVENT_TYPES, MODERATION_EVENT_TYPES } from './types.js';
export { verifySignature as verifyWebhookSignature, signBody as signWebhookBody } from '../auth/signature.js';
