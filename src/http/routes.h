/*
 * api — the HTTP routes of doc/http-api.md: ICE servers and TURN
 * credentials, health, metrics, the signaling upgrade and static files.
 */
#ifndef FERRY_API_H
#define FERRY_API_H

struct http_req;

/* Answer r (queue exactly one response).  Returns 1, or 0 when MHD could
 * not take the response (the connection is then closed). */
int api_route(struct http_req *r);

#endif
