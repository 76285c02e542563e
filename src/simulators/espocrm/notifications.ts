/**
 * In-app notifications (reference §6). `POST /Notification` is allowed to the admin only: the vendor's ACL
 * sets `create: no` on the Notification scope for everyone else, so an API user gets 403 `No create access.`
 * ([UNCONFIRMED] at runtime, inferred from the ACL code; quirk `apiUserCanCreateNotification`). The type
 * must be `Message` (capital M): other types would be stored by the vendor but never rendered, so the
 * simulator rejects them loudly with a validation failure. Users read their own notifications newest first,
 * count the unread ones and mark all read.
 */
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../ports/clock.ts';
import type { JsonObject } from '../../core/types.ts';
import { currentUser } from './auth.ts';
import { forbidden, validationFailure } from './errors.ts';
import type { EspoCrmQuirks } from './quirks.ts';
import type { SimState, StoredNotification } from './state.ts';
import type { UserDirectory } from './users.ts';
import type { IdGenerator } from './values.ts';
import { formatDateTime, isJsonObject } from './values.ts';

/** What the notification routes need. */
export interface NotificationRoutesOptions {
  readonly state: SimState;
  readonly users: UserDirectory;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly quirks: () => EspoCrmQuirks;
}

/** The type value the vendor renders as a message (`Notification::TYPE_MESSAGE`). */
const MESSAGE_TYPE = 'Message';

function renderNotification(notification: StoredNotification, users: UserDirectory): JsonObject {
  return {
    id: notification.id,
    number: notification.number,
    type: notification.type,
    data: notification.data,
    noteData: null,
    read: notification.read,
    message: notification.message,
    userId: notification.userId,
    userName: users.nameOf(notification.userId),
    relatedType: null,
    relatedId: null,
    relatedName: null,
    relatedParentType: null,
    relatedParentId: null,
    createdAt: notification.createdAt,
    createdById: notification.createdById,
    createdByName: users.nameOf(notification.createdById),
    deleted: false,
  };
}

/** Registers `/api/v1/Notification` and its actions. */
export function registerNotificationRoutes(app: FastifyInstance, options: NotificationRoutesOptions): void {
  const { state, users } = options;

  app.post('/api/v1/Notification', (request) => {
    const user = currentUser(request);
    const allowed =
      user.type === 'admin' || (user.type === 'api' && options.quirks().apiUserCanCreateNotification);
    if (!allowed) throw forbidden('No create access.');
    const body = isJsonObject(request.body) ? request.body : {};
    if (body.type !== MESSAGE_TYPE) throw validationFailure('Notification', 'type', 'valid');
    if (typeof body.userId !== 'string' || body.userId === '')
      throw validationFailure('Notification', 'user', 'required');
    if (users.byId(body.userId) === undefined) throw validationFailure('Notification', 'user', 'valid');
    const ms = options.clock.now();
    const notification: StoredNotification = {
      id: options.ids.next(ms),
      number: state.nextNumber(),
      type: MESSAGE_TYPE,
      message: typeof body.message === 'string' ? body.message : null,
      data: isJsonObject(body.data) ? body.data : null,
      userId: body.userId,
      read: false,
      createdAt: formatDateTime(ms),
      createdById: user.id,
    };
    state.notifications.push(notification);
    return renderNotification(notification, users);
  });

  type ListRoute = { Querystring: { maxSize?: string; offset?: string; after?: string } };
  app.get<ListRoute>('/api/v1/Notification', (request) => {
    const user = currentUser(request);
    const maxSize = Math.max(0, Number.parseInt(request.query.maxSize ?? '', 10) || 20);
    const offset = Math.max(0, Number.parseInt(request.query.offset ?? '', 10) || 0);
    const after = request.query.after;
    const mine = state.notifications
      .filter((notification) => notification.userId === user.id)
      .filter((notification) => after === undefined || notification.createdAt > after)
      .sort((a, b) => b.number - a.number);
    return {
      total: mine.length,
      list: mine
        .slice(offset, offset + maxSize)
        .map((notification) => renderNotification(notification, users)),
    };
  });

  app.get('/api/v1/Notification/action/notReadCount', (request) => {
    const user = currentUser(request);
    return state.notifications.filter((notification) => notification.userId === user.id && !notification.read)
      .length;
  });

  app.post('/api/v1/Notification/action/markAllRead', (request) => {
    const user = currentUser(request);
    for (const notification of state.notifications)
      if (notification.userId === user.id) notification.read = true;
    return true;
  });
}
