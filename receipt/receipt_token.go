// Package receipt makes the acknowledgement (受理回执) a villager takes home:
// the printed layout with its signed QR code (package receipt/token), and
// the printer back ends (ESC/POS thermal printers, CUPS, files). It has no UI
// and no database.
package receipt

import "github.com/keqiao/villagekiosk/receipt/token"

// The token's names, kept here for the receipt's callers.
type (
	Token    = token.Token
	Keyring  = token.Keyring
	KnownKey = token.KnownKey
)

var (
	KeyID       = token.KeyID
	ContentHash = token.ContentHash
	NewToken    = token.NewToken
	URL         = token.URL
	Verify      = token.Verify
)
