#ifndef WSCHATD_IPC_H
#define WSCHATD_IPC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Messages between a worker and the master over a SOCK_SEQPACKET pair:
 * one datagram each, a fixed header then the payload.
 */
#define IPC_JOIN	1	/* worker -> master: a trimmed name */
#define IPC_MESSAGE	2	/* worker -> master: a chat text */
#define IPC_FRAMES	3	/* master -> worker: finished WebSocket frames */
#define IPC_JOINED	4	/* master -> worker: the name the client joined as */
/* worker -> master: count this client under the address it was forwarded
 * for (16 bytes, IPv4 mapped), not under its proxy's; only from a worker
 * whose peer is a trusted proxy. */
#define IPC_COUNT_AS	5
#define IPC_COUNT_OK	6	/* master -> worker: counted */
#define IPC_COUNT_FULL	7	/* master -> worker: that address is at its limit */
#define IPC_ADDR_LEN	16
/*
 * Direct output (plain TCP clients; see doc/HACKING.md): once the
 * WebSocket is open the master writes to the client socket itself, and
 * the worker hands it what it has to say.
 */
#define IPC_OUT		8	/* worker -> master: bytes for the client */
#define IPC_CLOSED	9	/* master -> worker: the IPC_F_CLOSE output is
				 * written and the master has let go of the
				 * client socket */

/*
 * IPC_FRAMES and IPC_MESSAGE: the bytes go on in the next datagram.  A
 * datagram must fit the socket's send buffer, so anything larger than
 * IPC_CHUNK travels in pieces.
 */
#define IPC_F_MORE	0x0001
/* IPC_OUT: the last output (a close frame): the client leaves the room,
 * and once it is written the master answers IPC_CLOSED. */
#define IPC_F_CLOSE	0x0002

struct ipc_hdr {
	uint16_t	type;
	uint16_t	flags;
	uint32_t	len;
};

struct ipc_msg {
	uint16_t	 type;
	uint16_t	 flags;
	const void	*data;
	size_t		 len;
};

/* Send one message without blocking: 0, IO_AGAIN or IO_ERROR. */
int	ipc_send(int, uint16_t type, uint16_t flags, const void *, size_t);
/*
 * Receive one message into buf (size bufsz, at least the header).
 * Returns 1 with msg set, 0 at EOF, IO_AGAIN, or IO_ERROR (including a
 * malformed or truncated datagram).
 */
int	ipc_recv(int, void *buf, size_t bufsz, struct ipc_msg *);
/* Check a received datagram: -1 unless well-formed. */
int	ipc_parse(const void *, size_t, struct ipc_msg *);

#endif
