// OpenAPI 3.1 description of the REST API, served at GET /api/v1/openapi.json. Kept beside the
// routes; the api test checks that every route the app serves is described here.
import { INCIDENT_STATUSES } from '../incidents/incident.ts';
import { ACTIONS } from '../incidents/lifecycle.ts';

const error = { description: 'Bad input; `error` names the field', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
const json = (ref: string, description = 'OK'): object => ({ description, content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } } });
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } };
const consumerAuth = [{ consumerKey: [] }];
const adminAuth = [{ adminToken: [] }];
const sessionAuth = [{ session: [] }, { sessionCookie: [] }];
/** Readers: a console session (scoped to the user's jurisdictions), a consumer key, or nothing with openAccess. */
const readerAuth = [{ session: [] }, { sessionCookie: [] }, { consumerKey: [] }, {}];
const csvBody = { required: true, content: { 'text/csv': { schema: { type: 'string' } } } };
const imported = { description: 'Imported', content: { 'application/json': { schema: { type: 'object', properties: { imported: { type: 'integer' } } } } } };
const leaseBody = (extra: object = {}): object => ({
  required: true,
  content: { 'application/json': { schema: { type: 'object', required: ['leaseToken'], properties: { leaseToken: { type: 'string' }, ...extra } } } },
});

export const OPENAPI = {
  openapi: '3.1.0',
  info: { title: 'GridWatch cloud API', version: '1.0.0', description: 'Incidents, lifecycle actions, CAP 1.2 alerts, the dispatch queue, address book import and EMQX auth hooks.' },
  servers: [{ url: '/' }],
  paths: {
    '/api/v1/incidents': {
      get: {
        summary: 'List incidents, newest first',
        parameters: [
          { name: 'status', in: 'query', schema: { type: 'string', enum: [...INCIDENT_STATUSES] } },
          { name: 'unitId', in: 'query', schema: { type: 'string' } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        ],
        responses: { 200: json('IncidentList'), 400: error },
      },
    },
    '/api/v1/incidents/{id}': { get: { summary: 'One incident', parameters: [idParam], responses: { 200: json('Incident'), 400: error, 404: error } } },
    '/api/v1/incidents/{id}/audit': { get: { summary: 'Audit trail of an incident', parameters: [idParam], responses: { 200: json('AuditList'), 400: error, 404: error } } },
    '/api/v1/incidents/{id}/cap': {
      get: { summary: 'The incident as a CAP 1.2 alert', parameters: [idParam], responses: { 200: { description: 'CAP 1.2 XML', content: { 'application/xml': { schema: { type: 'string' } } } }, 400: error, 404: error } },
    },
    '/api/v1/incidents/{id}/actions': {
      post: {
        summary: 'Lifecycle action (acknowledge, on_site, resolve, close, false_alarm, test, dispatch, note)',
        parameters: [idParam],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/ActionRequest' } } } },
        responses: { 200: json('Incident'), 400: error, 404: error, 409: { ...error, description: 'Illegal transition from the current status' } },
      },
    },
    '/api/v1/dispatch/claim': {
      post: {
        summary: 'Lease up to `max` messages; long-polls up to `waitMs` when none is ready',
        security: consumerAuth,
        requestBody: {
          content: {
            'application/json': {
              schema: { type: 'object', properties: { max: { type: 'integer', minimum: 1, maximum: 100 }, leaseS: { type: 'integer', minimum: 1, maximum: 3600 }, waitMs: { type: 'integer', minimum: 0, maximum: 30000 } } },
            },
          },
        },
        responses: { 200: json('MessageList'), 400: error, 401: error },
      },
    },
    '/api/v1/dispatch/messages/{id}/ack': { post: { summary: 'Done with a leased message', security: consumerAuth, parameters: [idParam], requestBody: leaseBody(), responses: { 204: { description: 'Acked' }, 400: error, 401: error, 404: error, 409: error } } },
    '/api/v1/dispatch/messages/{id}/nack': {
      post: {
        summary: 'Failed: redeliver after `delayMs` (counted; dead-lettered after the attempt limit)',
        security: consumerAuth,
        parameters: [idParam],
        requestBody: leaseBody({ delayMs: { type: 'integer', minimum: 0 }, error: { type: 'string' } }),
        responses: { 204: { description: 'Requeued' }, 400: error, 401: error, 404: error, 409: error },
      },
    },
    '/api/v1/dispatch/messages/{id}/release': { post: { summary: 'Give a lease back at once (not counted)', security: consumerAuth, parameters: [idParam], requestBody: leaseBody(), responses: { 204: { description: 'Released' }, 400: error, 401: error, 404: error, 409: error } } },
    '/api/v1/readings': {
      get: {
        summary: 'Latest value of each point of a gateway (optionally one device), as ingest last received it',
        security: consumerAuth,
        parameters: [
          { name: 'gatewayId', in: 'query', required: true, schema: { type: 'string' } },
          { name: 'deviceId', in: 'query', schema: { type: 'string' } },
        ],
        responses: { 200: { description: '{"readings":[{"deviceId","point","value","t"}]}' }, 400: error, 401: error },
      },
    },
    '/api/v1/dispatch/dead-letters': { get: { summary: 'Messages given up on (webhook attempts exhausted, or nacked too often)', security: consumerAuth, responses: { 200: json('MessageList'), 401: error } } },
    '/api/v1/dispatch/consumers': {
      post: {
        summary: 'Create a consumer; the API key (and webhook secret) are shown once',
        security: adminAuth,
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/NewConsumer' } } } },
        responses: { 201: { description: 'Created' }, 400: error, 401: error },
      },
    },
    '/api/v1/addresses/import': { post: { summary: 'Import standard addresses (CSV: address_id, building, unit, floor, room, grid, community, street, district, lat, lon)', security: adminAuth, requestBody: csvBody, responses: { 200: imported, 400: error, 401: error } } },
    '/api/v1/units/import': { post: { summary: 'Import units (CSV: id, name, type, tier, area)', security: adminAuth, requestBody: csvBody, responses: { 200: imported, 400: error, 401: error } } },
    '/api/v1/routing-rules/import': { post: { summary: 'Replace routing rules (CSV: alarm_type, max_level, area_tier, area, tier, unit_type, priority)', security: adminAuth, requestBody: csvBody, responses: { 200: imported, 400: error, 401: error } } },
    '/api/v1/units': { get: { summary: 'Units and their jurisdiction', responses: { 200: { description: 'OK' } } } },
    '/api/v1/dead-letters': { get: { summary: 'Messages ingest refused, with the reason', security: adminAuth, responses: { 200: { description: 'OK' }, 401: error } } },
    '/api/v1/emqx/auth': {
      post: {
        summary: 'EMQX HTTP authentication hook (header x-gridwatch-emqx-secret)',
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['username', 'password'], properties: { clientid: { type: 'string' }, username: { type: 'string' }, password: { type: 'string' }, peerhost: { type: 'string' } } } } } },
        responses: { 200: { description: '{"result":"allow"|"deny","is_superuser":false}' }, 400: error, 401: error },
      },
    },
    '/api/v1/emqx/acl': {
      post: {
        summary: 'EMQX HTTP authorization hook (header x-gridwatch-emqx-secret)',
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { type: 'object', required: ['username', 'topic', 'action'], properties: { clientid: { type: 'string' }, username: { type: 'string' }, topic: { type: 'string' }, action: { enum: ['publish', 'subscribe'] }, peerhost: { type: 'string' } } } } },
        },
        responses: { 200: { description: '{"result":"allow"|"deny"}' }, 400: error, 401: error },
      },
    },
    '/api/v1/auth/login': {
      post: {
        summary: 'Console login: sets the HttpOnly session cookie and returns the same token for Bearer use (CLIs)',
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['username', 'password'], properties: { username: { type: 'string' }, password: { type: 'string' } } } } } },
        responses: { 200: { description: '{"user":{username,displayName,role,jurisdictions},"token"}' }, 400: error, 401: error },
      },
    },
    '/api/v1/auth/logout': { post: { summary: 'Ends every session of the user (revokes their tokens, closes their sockets)', security: sessionAuth, responses: { 204: { description: 'Logged out' }, 401: error } } },
    '/api/v1/auth/me': { get: { summary: 'The logged-in user', security: sessionAuth, responses: { 200: { description: '{"user","openAccess"}' }, 401: error } } },
    '/api/v1/overview': {
      get: {
        summary: 'Counts by level and status, on-time rate, level-1 acknowledged within 5 min (target 93 %), false alarms per device, offline devices and gateways — in the caller’s jurisdictions, last 30 days',
        security: readerAuth,
        responses: { 200: { description: 'Overview' }, 401: error },
      },
    },
    '/api/v1/incidents/{id}/context': {
      get: { summary: 'Address, alarm events with their readings around the incident, deadlines, latest values (console detail)', security: readerAuth, parameters: [idParam], responses: { 200: { description: 'OK' }, 400: error, 401: error, 404: error } },
    },
    '/api/v1/test-events': {
      get: {
        summary: 'Installer test reports (recorded, never incidents) with the unit an alarm from the device would be routed to — the commissioning round trip',
        security: readerAuth,
        parameters: [
          { name: 'gatewayId', in: 'query', required: true, schema: { type: 'string' } },
          { name: 'deviceId', in: 'query', schema: { type: 'string' } },
          { name: 'since', in: 'query', schema: { type: 'integer', description: 'epoch ms (cloud receive time)' } },
        ],
        responses: { 200: { description: '{"testEvents":[…]}' }, 400: error, 401: error },
      },
    },
    '/api/v1/enrollment-tokens': {
      post: {
        summary: 'Issue a one-time enrollment token for a gateway (new, or existing: enrolling rotates its secret). The token is shown once; only its hash is stored',
        security: adminAuth,
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/EnrollmentTokenRequest' } } } },
        responses: { 201: json('EnrollmentToken', 'Issued'), 400: error, 401: error },
      },
    },
    '/api/v1/enroll': {
      post: {
        summary: 'Exchange an enrollment token (once, before it expires) for the gateway’s own MQTT credential; the token is the authentication',
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['token'], properties: { token: { type: 'string', maxLength: 256 }, gatewayId: { type: 'string', description: 'Optional: refuse (400, token kept) unless the token is for this gateway' } } } } } },
        responses: {
          200: json('Enrollment', 'Enrolled'),
          400: error,
          401: { ...error, description: 'Token not recognised' },
          409: { ...error, description: 'The gateway id belongs to another site' },
          410: { ...error, description: 'Token already used or expired' },
        },
      },
    },
    '/api/v1/openapi.json': { get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1' } } } },
    '/healthz': { get: { summary: 'Database and broker health', responses: { 200: { description: 'Healthy' }, 503: { description: 'Degraded' } } } },
    '/metrics': { get: { summary: 'Prometheus metrics', responses: { 200: { description: 'text/plain exposition' } } } },
  },
  components: {
    securitySchemes: {
      consumerKey: { type: 'http', scheme: 'bearer', description: 'Dispatch consumer API key' },
      adminToken: { type: 'http', scheme: 'bearer', description: 'Admin token (when configured)' },
      session: { type: 'http', scheme: 'bearer', description: 'Console session token from POST /api/v1/auth/login' },
      sessionCookie: { type: 'apiKey', in: 'cookie', name: 'gridwatch_session', description: 'The same token as an HttpOnly cookie (browsers)' },
    },
    schemas: {
      Error: { type: 'object', required: ['error'], properties: { error: { type: 'string', description: 'Starts with the offending field' } } },
      Incident: {
        type: 'object',
        properties: {
          id: { type: 'integer' },
          kind: { enum: ['device', 'correlated', 'flood', 'gateway'] },
          gatewayId: { type: 'string' },
          deviceId: { type: 'string' },
          alarmType: { type: 'string' },
          level: { type: 'integer', minimum: 1, maximum: 5 },
          status: { enum: [...INCIDENT_STATUSES] },
          addressId: { type: ['string', 'null'] },
          tier: { type: ['string', 'null'] },
          unitId: { type: ['string', 'null'] },
          escalations: { type: 'integer' },
          deviceCount: { type: 'integer' },
          occurrences: { type: 'integer' },
          firstEventId: { type: 'string' },
          raisedEdgeTime: { type: 'integer' },
          raisedAt: { type: 'integer' },
          clearedAt: { type: ['integer', 'null'] },
        },
      },
      IncidentList: { type: 'object', properties: { incidents: { type: 'array', items: { $ref: '#/components/schemas/Incident' } } } },
      AuditList: { type: 'object', properties: { audit: { type: 'array', items: { type: 'object' } } } },
      ActionRequest: {
        type: 'object',
        required: ['action', 'actor'],
        properties: { action: { enum: [...ACTIONS] }, actor: { type: 'string', maxLength: 128 }, note: { type: 'string', maxLength: 2000 }, unitId: { type: 'string' } },
      },
      EnrollmentTokenRequest: {
        type: 'object',
        required: ['gatewayId', 'site'],
        properties: { gatewayId: { type: 'string', maxLength: 64 }, site: { type: 'string', maxLength: 64 }, ttlS: { type: 'integer', minimum: 1, maximum: 2592000, default: 86400 } },
      },
      EnrollmentToken: {
        type: 'object',
        required: ['token', 'gatewayId', 'site', 'expiresAt'],
        properties: { token: { type: 'string', description: 'gwe_…; shown once' }, gatewayId: { type: 'string' }, site: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } },
      },
      Enrollment: {
        type: 'object',
        required: ['gatewayId', 'site', 'username', 'password', 'brokerUrl'],
        properties: {
          gatewayId: { type: 'string' },
          site: { type: 'string' },
          username: { type: 'string', description: 'MQTT username (the gateway id)' },
          password: { type: 'string', description: 'MQTT password; stored hashed, shown once' },
          brokerUrl: { type: 'string', description: 'Where the gateway connects (gatewayBrokerUrl, else the cloud’s broker URL)' },
        },
      },
      MessageList: { type: 'object', properties: { messages: { type: 'array', items: { type: 'object' } } } },
      NewConsumer: {
        type: 'object',
        required: ['id', 'name', 'units'],
        properties: { id: { type: 'string' }, name: { type: 'string' }, units: { type: 'array', items: { type: 'string' } }, webhookUrl: { type: 'string', format: 'uri' } },
      },
    },
  },
} as const;
