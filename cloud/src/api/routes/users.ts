// Console users created through the API (admin token): what `gridwatch-cloud user add` uses while
// a cloud runs, so the running process writes the user and it can log in at once.
import { Type } from '@sinclair/typebox';
import { addUser, findUser, ROLES, UserError } from '../../auth/users.ts';
import { defineRoute, type ApiRoute } from '../deps.ts';
import { HttpError } from '../errors.ts';
import { publicUser } from './auth.ts';
import { PublicUser, requiredText, text } from '../schemas.ts';

const create = defineRoute({
  method: 'post',
  path: '/api/v1/users',
  tag: 'admin',
  summary: 'Create a console user (password stored as a scrypt hash)',
  access: 'admin',
  body: Type.Object(
    {
      username: requiredText(64),
      password: Type.String({ minLength: 8, maxLength: 1024 }),
      role: Type.String({ description: `One of ${ROLES.join(', ')}` }),
      jurisdictions: Type.Array(Type.String({ description: 'district:FT, street:…, community:…, grid:… or *' }), { minItems: 1 }),
      displayName: Type.Optional(text(128)),
      ifAbsent: Type.Optional(Type.Boolean({ description: 'Answer 200 with the existing user instead of 409' })),
    },
    { $id: 'NewUserRequest' },
  ),
  ok: { status: 201, description: 'Created', schema: Type.Object({ user: PublicUser, created: Type.Boolean() }) },
  also: [{ status: 200, description: 'Already there, with ifAbsent: the existing user (created false)', schema: Type.Object({ user: PublicUser, created: Type.Boolean() }) }],
  errors: { 409: 'The username is taken' },
  async handler({ body, deps }) {
    const existing = await findUser(deps.store, body.username);
    if (existing && body.ifAbsent) return { status: 200, json: { user: publicUser(existing), created: false } };
    if (existing) throw new HttpError(409, `username: ${body.username} already exists`);
    try {
      const user = await addUser(deps.store, {
        username: body.username,
        password: body.password,
        role: body.role,
        jurisdictions: body.jurisdictions,
        ...(body.displayName === undefined ? {} : { displayName: body.displayName }),
      });
      deps.log.info({ username: user.username, role: user.role }, 'user added');
      return { status: 201, json: { user: publicUser(user), created: true } };
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      throw new HttpError(400, err.message);
    }
  },
});

export const userRoutes: ApiRoute[] = [create];
