package api

import (
	"net/url"
	"slices"
	"strings"

	"github.com/valyala/fasthttp"
)

// scope is what an API key must allow to call a route.
type scope string

const (
	scopeNone   scope = ""       // open: probes and metrics
	scopeIngest scope = "ingest" // the chat backend's routes
	scopeAdmin  scope = "admin"  // operators' routes
	// scopeRead is a read both take: the chat backend's and the
	// operators' keys (GET /v1/stats).
	scopeRead scope = "ingest or admin"
)

// allowedBy reports whether a key with scopes may call a route of scope sc.
func (sc scope) allowedBy(scopes []string) bool {
	if sc == scopeRead {
		return slices.Contains(scopes, string(scopeIngest)) || slices.Contains(scopes, string(scopeAdmin))
	}
	return slices.Contains(scopes, string(sc))
}

// params are a route's decoded path parameters, by name without ':'.
type params map[string]string

type handlerFunc func(rc *fasthttp.RequestCtx, p params) *apiError

type route struct {
	name    string   // the route's path template, its metrics label: e.g. "/v1/users/{user_id}/devices/{device_id}"
	method  string   // GET, PUT, …
	parts   []string // path segments; ":name" captures one
	scope   scope
	handler handlerFunc
}

type router struct{ routes []route }

func (r *router) add(method, pattern string, sc scope, h handlerFunc) {
	parts := strings.Split(strings.Trim(pattern, "/"), "/")
	name := "/" + strings.Join(mapParts(parts), "/")
	r.routes = append(r.routes, route{name: name, method: method, parts: parts, scope: sc, handler: h})
}

func mapParts(parts []string) []string {
	out := make([]string, len(parts))
	for i, p := range parts {
		if strings.HasPrefix(p, ":") {
			p = "{" + p[1:] + "}"
		}
		out[i] = p
	}
	return out
}

// match finds the route for method and the raw (still percent-encoded)
// path. Path parameters are unescaped one segment at a time, so an encoded
// "/" inside an id stays inside that id (and is then refused by checkID).
func (r *router) match(method string, rawPath []byte) (*route, params, *apiError) {
	path := string(rawPath)
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	pathMatched := false
	var allow []string
	for i := range r.routes {
		rt := &r.routes[i]
		p, ok := rt.matchPath(segs)
		if !ok {
			continue
		}
		if rt.method == method || (method == fasthttp.MethodHead && rt.method == fasthttp.MethodGet) {
			return rt, p, nil
		}
		pathMatched = true
		allow = append(allow, rt.method)
	}
	if pathMatched {
		if slices.Contains(allow, fasthttp.MethodGet) {
			allow = append(allow, fasthttp.MethodHead) // a GET route answers HEAD too (above)
		}
		slices.Sort(allow)
		allow = slices.Compact(allow)
		list := strings.Join(allow, ", ")
		return nil, nil, &apiError{Status: fasthttp.StatusMethodNotAllowed, Code: codeMethodNotAllowed,
			Message: "method " + method + " not allowed here; allowed: " + list, Allow: list}
	}
	return nil, nil, &apiError{Status: fasthttp.StatusNotFound, Code: codeNotFound, Message: "no such route: " + path}
}

// badEscape prefixes a parameter name in params when its segment was not
// valid percent-encoding ("%zz").
const badEscape = "%"

func (rt *route) matchPath(segs []string) (params, bool) {
	if len(segs) != len(rt.parts) {
		return nil, false
	}
	var p params
	for i, part := range rt.parts {
		if strings.HasPrefix(part, ":") {
			v, err := url.PathUnescape(segs[i])
			if p == nil {
				p = params{}
			}
			if err != nil {
				v = segs[i]
				p[badEscape+part[1:]] = "" // pathIDs refuses it by name
			}
			p[part[1:]] = v
			continue
		}
		if segs[i] != part {
			return nil, false
		}
	}
	return p, true
}
