// Connect to a fixed IP while keeping the vendor's host name in the URL, Host header and
// signature (like curl --resolve): for private-link endpoints and for loopback tests. The SDKs
// sign the host name and derive the service from it, so the name must stay the vendor's.
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

function fixedLookup(address: string): LookupFunction {
  const family = address.includes(':') ? 6 : 4;
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

/** An agent connecting every request to `address`, or undefined to resolve normally. */
export function pinnedAgent(protocol: 'http' | 'https', address: string | undefined): http.Agent | undefined {
  if (!address) return undefined;
  const lookup = fixedLookup(address);
  return protocol === 'https' ? new https.Agent({ lookup, keepAlive: false }) : new http.Agent({ lookup, keepAlive: false });
}
