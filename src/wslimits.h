/*
 * Every limit of wschatd, named once.  Limits that an operator may change
 * are defaults of a config key (see config.c); the others are fixed by the
 * protocol or by the design.
 */
#ifndef WSCHATD_LIMITS_H
#define WSCHATD_LIMITS_H

/* HTTP request head (request line + headers), bytes.  Over it: 431. */
#define HTTP_MAX_HEAD		8192
/* Header fields in one request.  Over it: 431. */
#define HTTP_MAX_HEADERS	64

/* Control frame payload (RFC 6455 5.5). */
#define WS_MAX_CONTROL		125
/* Seconds to wait for the peer's close frame after ours. */
#define WS_CLOSE_TIMEOUT	2

/* Chat names: code points after trimming (PROTOCOL.md). */
#define CHAT_NAME_MAX		32
/* Bytes of a name: 32 code points of at most 4 bytes. */
#define CHAT_NAME_MAX_BYTES	(CHAT_NAME_MAX * 4)

/* Defaults of the config keys. */
#define DEF_MAX_CLIENTS		1024		/* max-clients */
#define DEF_MAX_MESSAGE		65536		/* max-message: WebSocket message, bytes */
#define DEF_MAX_TEXT		4096		/* max-text: chat text, bytes */
#define DEF_HISTORY		50		/* history: messages kept */
#define DEF_RATE_LIMIT		20		/* rate-limit: messages per second */
#define DEF_RATE_BURST		40		/* rate-burst: bucket size */
#define DEF_MAX_QUEUE		(1024 * 1024)	/* max-queue: bytes queued per client */
#define DEF_MAX_CLIENTS_PER_IP	32		/* max-clients-per-ip; 0: no limit */
#define DEF_REQUEST_TIMEOUT	10		/* request-timeout: seconds for a request */
#define DEF_PING_INTERVAL	30		/* ping-interval: seconds; 0: no pings */
#define DEF_IDLE_TIMEOUT	75		/* idle-timeout: seconds; 0: none */
#define DEF_MAX_FRAGMENTS	1024		/* max-fragments: continuation frames */
#define DEF_PORT		8080

/* Ranges of the config keys. */
#define MAX_MAX_CLIENTS		100000
#define MIN_MAX_MESSAGE		256
#define MAX_MAX_MESSAGE		(16 * 1024 * 1024)
#define MAX_MAX_TEXT		(1024 * 1024)
#define MAX_HISTORY		10000
#define MAX_RATE		1000000
#define MIN_MAX_QUEUE		(64 * 1024)
#define MAX_MAX_QUEUE		(256 * 1024 * 1024)
#define MAX_REQUEST_TIMEOUT	3600
#define MAX_PING_INTERVAL	86400
#define MAX_IDLE_TIMEOUT	86400
#define MAX_MAX_FRAGMENTS	1000000
/* Entries of the trusted-proxy and allow-origin lists. */
#define MAX_TRUSTED_PROXIES	64
#define MAX_ALLOW_ORIGINS	64

/* Listeners given with --listen. */
#define MAX_LISTEN		16

/* Bytes in one master -> worker IPC datagram (payload). */
#define IPC_CHUNK		(32 * 1024)
/* Messages read from one worker in one poll() round (fairness). */
#define IPC_READS_PER_ROUND	16
/* Connections accepted from one listener in one poll() round: a bounded
 * number, so that a connection storm (slowloris clients reconnecting
 * after their 408) delays the room's messages by a few ms, not by 50.
 * An accept costs the master a hand-over to the spawner (the fork is the
 * spawner's), and a round with a join in a big room is long: too few per
 * round made joining 5,000 clients take minutes. */
#define ACCEPTS_PER_ROUND	32
/* Direct output: a worker's small frames are gathered in buffers of this
 * size in the master's queue for its client. */
#define OUT_COALESCE		4096
/* Descriptors the master keeps for other uses than client sockets held
 * for direct output. */
#define DIRECT_FD_RESERVE	64
/* Messages refused as rate_limited in a row after which a worker stops
 * reading its client until the next token (a flooder waits in TCP). */
#define RATE_HOLD_AFTER		16

/* A worker stops reading its broker socket while this much waits for
 * its client; the master's queue then fills and, at max-queue, the
 * client is dropped. */
#define WORKER_OUT_HIGH		(256 * 1024)

/* A worker stops reading its client while this much waits to be sent to
 * it (pongs, errors, files it asked for): a client that sends without
 * reading fills only its own socket, not the worker's memory. */
#define CLIENT_OUT_HIGH		(2 * WORKER_OUT_HIGH)

/* Static files: the webroot is loaded into memory at start and on SIGHUP. */
#define WEBROOT_MAX_FILES	1024
#define WEBROOT_MAX_BYTES	(32 * 1024 * 1024)
#define WEBROOT_MAX_DEPTH	16

/* Seconds the master waits for workers at shutdown before SIGKILL. */
#define SHUTDOWN_GRACE_MS	1500

/* Spawner processes at once: the current one and those retiring after a
 * reload (they exit as soon as they have read their last request). */
#define SPAWNERS_MAX		4
/* A spawner that dies sooner than this after its start failed to start. */
#define SPAWNER_MIN_LIFE_MS	1000
/* Wait between restarts of a spawner that keeps failing, per failure. */
#define SPAWNER_RETRY_MS	1000
/* Clients handed to a spawner and not yet answered; while this many
 * wait, the master accepts no more (they stay in the listen backlog). */
#define SPAWN_QUEUE_MAX		64
/* Replies (worker started, worker ended) read from a spawner in one
 * poll() round. */
#define SPAWN_REPLIES_PER_ROUND	64
/* Failed starts in a row after which the master gives up and exits. */
#define SPAWNER_MAX_FAILS	5

#endif
