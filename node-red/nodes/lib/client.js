// HTTP client of the GridWatch cloud API shared by the nodes. Errors carry the API's own message
// (which names the offending field), so a node's status and log say what to fix.
'use strict';

class GridwatchApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'GridwatchApiError';
    this.status = status;
  }
}

/**
 * @param {{ url: string, apiKey?: string }} options
 */
function createClient(options) {
  const base = String(options.url || '').replace(/\/+$/, '');
  if (!/^https?:\/\//.test(base)) throw new Error(`cloud URL must start with http:// or https://, got "${options.url}"`);

  /**
   * @param {string} method
   * @param {string} path
   * @param {object} [body]
   * @param {AbortSignal} [signal]
   */
  async function request(method, path, body, signal) {
    const headers = { accept: 'application/json' };
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
    if (response.status === 204) return null;
    const text = await response.text();
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (!response.ok) {
      const message = parsed && typeof parsed.error === 'string' ? parsed.error : `${method} ${path} answered ${response.status}`;
      throw new GridwatchApiError(response.status, message);
    }
    return parsed;
  }

  return {
    base,
    /** Leases up to `max` messages, waiting up to `waitMs` when none is ready. */
    claim: (args, signal) => request('POST', '/api/v1/dispatch/claim', args, signal).then((r) => (r && Array.isArray(r.messages) ? r.messages : [])),
    ack: (id, leaseToken) => request('POST', `/api/v1/dispatch/messages/${id}/ack`, { leaseToken }),
    nack: (id, leaseToken, error, delayMs) => request('POST', `/api/v1/dispatch/messages/${id}/nack`, { leaseToken, error, delayMs }),
    release: (id, leaseToken) => request('POST', `/api/v1/dispatch/messages/${id}/release`, { leaseToken }),
    action: (incidentId, body) => request('POST', `/api/v1/incidents/${incidentId}/actions`, body),
    incident: (incidentId) => request('GET', `/api/v1/incidents/${incidentId}`),
    readings: (query) => request('GET', `/api/v1/readings?${new URLSearchParams(query).toString()}`),
  };
}

module.exports = { createClient, GridwatchApiError };
