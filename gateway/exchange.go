package gateway

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/evidencegw/evidencegw/api"
	"github.com/evidencegw/evidencegw/custody"
	"github.com/evidencegw/evidencegw/exhibit"
)

// The routes of the exchange (docs/api.md, "Requests" and "Listings"): requests for
// evidence under a legal instrument, the inbox and the catalog's listings.

// exchangeRoutes registers the routes of the exchange on v1.
func (s *Server) exchangeRoutes(v1 prefixed) {
	v1.HandleFunc("/instruments", s.api(s.instruments)).Methods(http.MethodGet)
	v1.HandleFunc("/inbox", s.api(s.inbox)).Methods(http.MethodGet)
	v1.HandleFunc("/cases", s.api(s.cases)).Methods(http.MethodGet)
	v1.HandleFunc("/cases/{case}", s.api(s.caseView)).Methods(http.MethodGet)
	v1.HandleFunc("/cases/{case}/exhibits", s.api(s.caseExhibits)).Methods(http.MethodGet)
	v1.HandleFunc("/grants", s.api(s.grants)).Methods(http.MethodGet)
	v1.HandleFunc("/requests", s.api(s.requests)).Methods(http.MethodGet)
	v1.HandleFunc("/requests", s.api(s.fileRequest)).Methods(http.MethodPost)
	v1.HandleFunc("/requests/{id}", s.api(s.showRequest)).Methods(http.MethodGet)
	v1.HandleFunc("/requests/{id}/events", s.api(s.requestHistory)).Methods(http.MethodGet)
	v1.HandleFunc("/requests/{id}/acknowledge", s.api(s.acknowledgeRequest)).Methods(http.MethodPost)
	v1.HandleFunc("/requests/{id}/respond", s.api(s.respondRequest)).Methods(http.MethodPost)
	v1.HandleFunc("/requests/{id}/withdraw", s.api(s.withdrawRequest)).Methods(http.MethodPost)
	v1.HandleFunc("/requests/{id}/bundle", s.api(s.requestBundle)).Methods(http.MethodPost)
}

// maxQueryValue bounds one query parameter of a listing.
const maxQueryValue = 256

// listingQuery reads the query of a listing: only the parameters it names are
// allowed, each at most once and bounded.
func listingQuery(r *http.Request, allowed ...string) (url.Values, exhibit.Page, error) {
	q := r.URL.Query()
	allowed = append(allowed, "cursor", "limit")
	for name, vs := range q {
		if !containsString(allowed, name) {
			return nil, exhibit.Page{}, malformed("unknown query parameter %q: this listing takes %s", name, strings.Join(allowed, ", "))
		}
		if len(vs) != 1 || len(vs[0]) > maxQueryValue {
			return nil, exhibit.Page{}, malformed("query parameter %s must be given once, at most %d bytes", name, maxQueryValue)
		}
	}
	pg := exhibit.Page{Cursor: q.Get("cursor")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > api.MaxPageSize {
			return nil, exhibit.Page{}, malformed("limit must be 1 to %d", api.MaxPageSize)
		}
		pg.Limit = n
	}
	return q, pg, nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// queryTime reads an optional RFC 3339 time.
func queryTime(q url.Values, name string) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, malformed("%s must be an RFC 3339 time, such as 2026-12-31T00:00:00Z", name)
	}
	return t, nil
}

func (s *Server) instruments(w http.ResponseWriter, _ *http.Request, _ exhibit.Principal) error {
	writeJSON(w, http.StatusOK, s.cfg.Exhibits.Instruments())
	return nil
}

func (s *Server) inbox(w http.ResponseWriter, r *http.Request, p exhibit.Principal) error {
	_, pg, err := listingQuery(r)
	if err != nil {
		return err
	}
	if pg.Cursor != "" {
		return malformed("the inbox takes no cursor: continue each part with its next, in /v1/requests or /v1/grants")
	}
	in, err := s.cfg.Exhibits.Inbox(r.Context(), p, pg.Limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, in)
	return nil
}

func (s *Server) cases(w http.ResponseWriter, r *http.Request, p exhibit.Principal) error {
	_, pg, err := listingQuery(r)
	if err != nil {
		return err
	}
	page, err := s.cfg.Exhibits.Cases(r.Context(), p, pg)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) caseView(w http.ResponseWriter, r *http.Request, p exhibit.Principal) error {
	if _, _, err := listingQuery(r); err != nil {
		return err
	}
	v, err := s.cfg.Exhibits.Case(r.Context(), p, mux.Vars(r)["case"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) caseExhibits(w http.ResponseWriter, r *http.Request, p exhibit.Principal) error {
	_, pg, err := listingQuery(r)
	if err != nil {
		return err
	}
	page, err := s.cfg.Exhibits.CaseExhibits(r.Context(), p, mux.Vars(r)["case"], pg)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) grants(w http.ResponseWriter, r *http.Request, p exhibit.Principal) error {
	q, pg, err := listingQuery(r, "box", "counterparty", "state", "case", "instrument", "request")
	if err != nil {
		return err
	}
	f := exhibit.GrantFilter{Box: q.Get("box"), Counterparty: q.Get("counterparty"), State: q.Get("state"),
		CaseID: q.Get("case"), Instrument: q.Get("instrument"), RequestID: q.Get("request")}
	page, err := s.cfg.Exhibits.Grants(r.Context(), p, f, pg)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) requests(w http.ResponseWriter, r *http.Request, p exhibit.Principal) error {
	q, pg, err := listingQuery(r, "box", "counterparty", "state", "case", "instrument", "due_before", "due_after")
	if err != nil {
		return err
	}
	f := exhibit.RequestFilter{Box: q.Get("box"), Counterparty: q.Get("counterparty"), CaseID: q.Get("case"),
		Instrument: q.Get("instrument")}
	switch st := q.Get("state"); st {
	case "":
	case "open-any":
		f.Open = true
	default:
		f.States = strings.Split(st, ",")
	}
	if f.DueBefore, err = queryTime(q, "due_before"); err != nil {
		return err
	}
	if f.DueAfter, err = queryTime(q, "due_after"); err != nil {
		return err
	}
	page, err := s.cfg.Exhibits.Requests(r.Context(), p, f, pg)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) fileRequest(w http.ResponseWriter, r *http.Request, p exhibit.Principal) error {
	var req api.FileRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	res, err := s.cfg.Exhibits.FileRequest(r.Context(), p, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, res)
	return nil
}

func (s *Server) showRequest(w http.ResponseWriter, r *http.Request, p exhibit.Principal) error {
	v, err := s.cfg.Exhibits.ShowRequest(r.Context(), p, mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) requestHistory(w http.ResponseWriter, r *http.Request, p exhibit.Principal) error {
	h, err := s.cfg.Exhibits.RequestHistory(r.Context(), p, mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

func (s *Server) acknowledgeRequest(w http.ResponseWriter, r *http.Request, p exhibit.Principal) error {
	var req api.RequestAction
	if err := decodeJSON(w, r, &req, true); err != nil {
		return err
	}
	res, err := s.cfg.Exhibits.AcknowledgeRequest(r.Context(), p, mux.Vars(r)["id"], req.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) withdrawRequest(w http.ResponseWriter, r *http.Request, p exhibit.Principal) error {
	var req api.RequestAction
	if err := decodeJSON(w, r, &req, true); err != nil {
		return err
	}
	res, err := s.cfg.Exhibits.WithdrawRequest(r.Context(), p, mux.Vars(r)["id"], req.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) respondRequest(w http.ResponseWriter, r *http.Request, p exhibit.Principal) error {
	var req api.RespondRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	res, err := s.cfg.Exhibits.RespondRequest(r.Context(), p, mux.Vars(r)["id"], req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) requestBundle(w http.ResponseWriter, r *http.Request, p exhibit.Principal) error {
	out, rc, err := s.cfg.Exhibits.RequestBundle(r.Context(), p, mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	setCustodyHeader(w, rc)
	w.Header().Set("Content-Type", custody.BundleMediaType)
	_, err = w.Write(out)
	return err
}
