/* deliver — see deliver.h. */
#include "signal/deliver.h"
#include "signal/conn.h"
#include "conf/conf.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

/* Takes the oldest queued message of p off its queue (the caller frees
 * it), keeping the memory count right. */
static struct sig_msg *queue_pop(struct sig *s, struct sig_peer *p)
{
	struct sig_msg *m = p->qhead;

	if (!m)
		return NULL;
	p->qhead = m->next;
	if (!p->qhead)
		p->qtail = NULL;
	p->qlen--;
	s->stats.queue_bytes -= m->len;
	return m;
}

static void queue_push(struct sig *s, struct sig_peer *p, const char *text,
		       size_t len)
{
	long cap = s->env.conf->signaling_queue;
	long mem = s->env.conf->signaling_queue_memory;
	struct sig_msg *m;

	/* Oldest first: by count for this peer, and by the bytes all
	 * absent peers hold together (this peer's own oldest go first). */
	while (p->qhead && ((long)p->qlen >= cap ||
			    (mem > 0 && s->stats.queue_bytes + len > (uint64_t)mem))) {
		free(queue_pop(s, p));
		s->stats.messages_dropped++;
	}
	if (cap <= 0 || (mem > 0 && s->stats.queue_bytes + len > (uint64_t)mem)) {
		s->stats.messages_dropped++;
		return;
	}
	m = xmalloc(sizeof(*m) + len + 1);
	m->next = NULL;
	m->len = len;
	memcpy(m->text, text, len);
	m->text[len] = '\0';
	if (p->qtail)
		p->qtail->next = m;
	else
		p->qhead = m;
	p->qtail = m;
	p->qlen++;
	s->stats.queue_bytes += len;
	s->stats.messages_queued++;
}

/* A peer whose queue is not empty has no working socket (see
 * deliver_flush), so sending directly can never overtake what is
 * queued. */
void deliver_peer(struct sig *s, struct sig_peer *p, const char *text,
		  size_t len)
{
	if (p->conn && conn_send(p->conn, text, len) == 0) {
		s->stats.messages_relayed++;
		return;
	}
	queue_push(s, p, text, len);
}

void deliver_room(struct sig *s, struct sig_room *r,
		  const struct sig_peer *except, const char *text, size_t len)
{
	struct sig_peer *p;

	for (p = r->head; p; p = p->next)
		if (p != except)
			deliver_peer(s, p, text, len);
}

void deliver_room_json(struct sig *s, struct sig_room *r,
		       const struct sig_peer *except, json_t *obj)
{
	char *text = json_text(obj);

	if (text)
		deliver_room(s, r, except, text, strlen(text));
	free(text);
}

void deliver_flush(struct sig *s, struct sig_peer *p)
{
	struct sig_msg *m;

	while ((m = p->qhead) != NULL) {
		if (!p->conn || conn_send(p->conn, m->text, m->len) < 0)
			return;
		free(queue_pop(s, p));
		s->stats.messages_relayed++;
	}
}

void deliver_drop(struct sig *s, struct sig_peer *p)
{
	while (p->qhead)
		free(queue_pop(s, p));
}
