package oppo

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
)

// simForm is a POST body in application/x-www-form-urlencoded, decoded in
// place: each value is a slice of the body buffer.
type simForm struct {
	body  []byte
	pairs [][2][]byte // key, value, in body order
}

// read replaces f with r's form body. It follows url.ParseQuery's rules
// (pairs split on '&', '+' is a space, a bad %-escape or a ';' in a pair
// is an error), and like Request.ParseForm it reads no body unless the
// Content-Type is the urlencoded one. The body buffer is reused, so a
// 1000-message batch costs no allocation here after the first.
func (f *simForm) read(r *http.Request) error {
	f.body, f.pairs = f.body[:0], f.pairs[:0]
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		return nil
	}
	if n := r.ContentLength; n > 0 && n <= maxSimBody && int64(cap(f.body)) < n+1 {
		f.body = make([]byte, 0, n+1)
	}
	for {
		if len(f.body) == cap(f.body) {
			f.body = append(f.body, 0)[:len(f.body)]
		}
		n, err := r.Body.Read(f.body[len(f.body):cap(f.body)])
		f.body = f.body[:len(f.body)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	rest := f.body
	for len(rest) > 0 {
		var pair []byte
		if i := bytes.IndexByte(rest, '&'); i >= 0 {
			pair, rest = rest[:i], rest[i+1:]
		} else {
			pair, rest = rest, nil
		}
		if len(pair) == 0 {
			continue
		}
		if bytes.IndexByte(pair, ';') >= 0 {
			return errors.New("invalid semicolon separator in form")
		}
		key, value := pair, pair[len(pair):]
		if i := bytes.IndexByte(pair, '='); i >= 0 {
			key, value = pair[:i], pair[i+1:]
		}
		var err error
		if key, err = unescapeInPlace(key); err != nil {
			return err
		}
		if value, err = unescapeInPlace(value); err != nil {
			return err
		}
		f.pairs = append(f.pairs, [2][]byte{key, value})
	}
	return nil
}

// get is the first value of key ("" when absent), as a string.
func (f *simForm) get(key string) string { return string(f.getBytes(key)) }

// getBytes is the first value of key, a slice of the body buffer.
func (f *simForm) getBytes(key string) []byte {
	for _, p := range f.pairs {
		if string(p[0]) == key {
			return p[1]
		}
	}
	return nil
}

// unescapeInPlace decodes %XX and '+' in b, writing over b itself (the
// result is never longer), and returns the decoded prefix.
func unescapeInPlace(b []byte) ([]byte, error) {
	w := 0
	for r := 0; r < len(b); {
		switch c := b[r]; c {
		case '%':
			if r+2 >= len(b) {
				return nil, errors.New("invalid URL escape")
			}
			hi, ok1 := unhex(b[r+1])
			lo, ok2 := unhex(b[r+2])
			if !ok1 || !ok2 {
				return nil, errors.New("invalid URL escape")
			}
			b[w] = hi<<4 | lo
			r += 3
		case '+':
			b[w] = ' '
			r++
		default:
			b[w] = c
			r++
		}
		w++
	}
	return b[:w], nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
