package orgs

import "strconv"

// Paging bounds of the listing routes.
const (
	DefaultLimit = 20
	MaxLimit     = 100
	maxOffset    = 1 << 30
)

// Page is a window on a listing: Limit items from Offset.
type Page struct {
	Offset int
	Limit  int
}

// ParsePage reads offset and limit as a caller sends them (empty for the
// defaults) and refuses what is out of bounds.
func ParsePage(offset, limit string) (Page, error) {
	o, err := pageInt("offset", offset, 0, 0, maxOffset)
	if err != nil {
		return Page{}, err
	}
	l, err := pageInt("limit", limit, DefaultLimit, 1, MaxLimit)
	if err != nil {
		return Page{}, err
	}
	return Page{Offset: o, Limit: l}, nil
}

func pageInt(field, v string, def, lowest, highest int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lowest || n > highest {
		return 0, invalid(field, nil, "%s must be an integer from %d to %d", field, lowest, highest)
	}
	return n, nil
}

// Bounds are the indexes [start, end) of the page in a listing of n items.
func (p Page) Bounds(n int) (start, end int) {
	start, end = min(p.Offset, n), min(p.Offset+p.Limit, n)
	return start, end
}
