/**
 * Command bytes of ttyd's WebSocket protocol (subprotocol `tty`), as observed against ttyd 1.7.7.
 * Every application message is one command byte followed by its payload, in binary frames.
 */
export const WS_SUBPROTOCOL = 'tty';

/** Client → server. The init message has no separate command byte: its `{` is the first byte of its JSON. */
export const ClientCommand = {
  INPUT: 0x30, // '0'
  RESIZE_TERMINAL: 0x31, // '1'
  PAUSE: 0x32, // '2'
  RESUME: 0x33, // '3'
  JSON_DATA: 0x7b, // '{'
} as const;

/** Server → client. EXIT_STATUS is cliscale's addition, sent only to clients that announce the capability. */
export const ServerCommand = {
  OUTPUT: 0x30, // '0'
  SET_WINDOW_TITLE: 0x31, // '1'
  SET_PREFERENCES: 0x32, // '2'
  EXIT_STATUS: 0x33, // '3'
} as const;

/** Capability a client lists in its init JSON (`capabilities`) to receive EXIT_STATUS before the close. */
export const CAPABILITY_EXIT_STATUS = 'exit-status';

/** Close codes the supervisor and the gateway use. ttyd sends the reserved 1006 for non-zero exits (ttyd #1395); we never do. */
export const CloseCode = {
  NORMAL: 1000, // the command has ended; ttyd's client does not reconnect on 1000
  GOING_AWAY: 1001, // the server is shutting down
  POLICY_VIOLATION: 1008, // wrong AuthToken, as in ttyd
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  SERVICE_RESTART: 1012, // the gateway is restarting or lost the runner: reconnect (to another replica)
  TRY_AGAIN_LATER: 1013,
} as const;

/** Bounds on terminal geometry accepted from the network. */
export const MAX_COLUMNS = 1000;
export const MAX_ROWS = 500;
export const DEFAULT_COLUMNS = 80;
export const DEFAULT_ROWS = 24;
