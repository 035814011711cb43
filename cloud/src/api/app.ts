// The cloud's express app: the declared API routes (routes/index.ts), the static console, a JSON
// 404 under /api and the one error handler. Everything route-specific lives in routes/.
import express from 'express';
import helmet from 'helmet';
import type { ApiDeps, ApiRoute } from './deps.ts';
import { errorHandler, mountRoutes } from './mount.ts';
import { ROUTES } from './routes/index.ts';
import { CONSOLE_DIR } from '../console/bundle.ts';
import { mapTileOrigin } from '../config.ts';

export { EMQX_SECRET_HEADER, type Principal } from './principal.ts';
export type { ApiDeps as AppOptions } from './deps.ts';

export { CONSOLE_DIR };

export function createApp(deps: ApiDeps, routes: readonly ApiRoute[] = ROUTES): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Security headers and a CSP for the console (issue 11): scripts, styles and connections only
  // from this origin (socket.io included), no framing, no inline code. HSTS only when the console
  // is served over HTTPS (secureCookies), else a plain-HTTP demo would pin browsers to HTTPS.
  // Images also from the map's tile server (map.tiles), the one outside origin the console loads.
  const tileOrigin = mapTileOrigin(deps.config.mapTiles);
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: true,
        directives: { defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], connectSrc: ["'self'"], imgSrc: ["'self'", 'data:', ...(tileOrigin ? [tileOrigin] : [])], frameAncestors: ["'none'"], upgradeInsecureRequests: null },
      },
      strictTransportSecurity: deps.config.secureCookies,
    }),
  );
  const api = express.Router();
  mountRoutes(api, routes, deps);
  app.use(api);
  app.use(express.static(CONSOLE_DIR));
  app.use('/api', (_req, res) => {
    res.status(404).json({ error: 'path: not found' });
  });
  // Express 5 forwards rejected handler promises here: the one place API errors are logged.
  app.use(errorHandler(deps.log));
  return app;
}
