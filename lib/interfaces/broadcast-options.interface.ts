/**
 * Options of `broadcast(message, options)`: send to every online authenticated user except some.
 */
export interface BroadcastOptions {
  /**
   * User ids to leave out (possibly none). The message then goes to the members of Mesa's
   * `connected_clients` set (authenticated users online at that moment) minus these ids, named one by
   * one in the envelope: unauthenticated sockets do not receive it, and it is never stored for
   * offline users.
   */
  excluding: readonly string[];
}
