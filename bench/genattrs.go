package bench

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// evKind is a standard event type (events contract).
type evKind uint8

const (
	kPageView evKind = iota
	kProductView
	kSearch
	kAddToCart
	kAppOpen
	kCheckoutStart
	kPurchase
	kInvoiceIssued // first BSS kind
	kPaymentFailed
	kPaymentSucceeded
	kPlanChanged
	kUsageThreshold
	kTicketOpened
	kConsentChanged
	kProfileUpdated
	kAccountOpened
	kKYCSubmitted
	kKYCVerified
	kOrderPlaced
	numMixKinds
	// Outcome kinds follow the mix kinds.
	kDelivered evKind = iota - 1
	kOpened
	kClicked
	kConverted
)

var kindNames = [...]string{
	"page_view", "product_view", "search", "add_to_cart", "app_open", "checkout_start", "purchase",
	"invoice_issued", "payment_failed", "payment_succeeded", "plan_changed", "usage_threshold",
	"ticket_opened", "consent_changed", "profile_updated", "account_opened",
	"kyc_document_submitted", "kyc_verified", "order_placed",
	"action_delivered", "action_opened", "action_clicked", "action_converted",
}

// mixWeights is the W1 share of each event type in units of 0.001%.
var mixWeights = [numMixKinds]int{
	60000, 15000, 8000, 6000, 4000, 2000, 1500, // clickstream: 96.5%
	700, 300, 900, 200, 400, 250, 200, 350, 50, 50, 40, 60, // BSS: 3.5%
}

var mixCum = func() (c [numMixKinds]int) {
	sum := 0
	for i, w := range mixWeights {
		sum += w
		c[i] = sum
	}
	if sum != mixScale {
		panic("bench: mix weights must sum to mixScale")
	}
	return c
}()

func (k evKind) String() string { return kindNames[k] }

func (k evKind) isClick() bool { return k < kInvoiceIssued }

// pickKind maps a uniform draw in [0, mixScale) to an event type.
func pickKind(u int) evKind {
	for i, c := range mixCum {
		if u < c {
			return evKind(i)
		}
	}
	return kPageView
}

const numSKUs = 2000

var (
	categories = []string{"phones", "tablets", "laptops", "audio", "wearables", "tv", "gaming",
		"accessories", "smart-home", "cameras", "plans", "broadband"}
	searchWords = []string{"iphone 16", "galaxy s25", "wireless earbuds", "usb-c charger", "5g plan",
		"roaming", "screen protector", "smart watch", "fibre broadband", "prepaid sim", "tablet case",
		"gaming headset", "4k tv", "bluetooth speaker", "family plan", "esim", "refurbished phone",
		"power bank", "mesh router", "unlimited data", "pixel 9", "noise cancelling"}
	helpTopics = []string{"billing", "roaming", "esim-setup", "returns", "delivery", "port-number"}
	campaigns  = []string{"spring_sale", "black_friday", "loyalty", "winback", "newsletter_w12"}
	devices    = []string{"ios", "android", "ipados", "android_tablet"}
	reasons    = []string{"insufficient_funds", "card_expired", "do_not_honor", "card_declined",
		"processing_error"}
	planNames = []string{"basic", "standard", "plus", "premium", "unlimited"}
	planFees  = []int64{999, 1999, 2999, 4499, 5999}
	metrics   = []string{"data_gb", "voice_min", "sms", "roaming_mb"}
	pcts      = []int64{50, 75, 80, 90, 100}
	ticketCat = []string{"billing", "network", "device", "account", "delivery", "other"}
	channels  = []string{"email", "sms", "push", "phone"}
	openChans = []string{"web", "store", "app", "partner"}
	docTypes  = []string{"passport", "id_card", "driving_licence", "utility_bill"}
	segments  = []string{"mass", "value", "high_value", "at_risk", "new", "loyal"}
	timezones = []string{"Europe/London", "Europe/Berlin", "Europe/Madrid", "America/New_York",
		"America/Los_Angeles", "Asia/Singapore"}
	languages = []string{"en-GB", "de-DE", "es-ES", "en-US", "fr-FR", "pt-BR"}
)

// Filler used to bring short records to the minimum size.
const (
	uaPad = "Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) " +
		"Chrome/126.0.6478.122 Mobile Safari/537.36 Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like " +
		"Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	refPad = "bss://billing-core/v7/batch/2026/nightly-run?node=bss-eu-west-1b&pipeline=invoicing" +
		"&stage=rating-and-charging&operator=system&trace=00-4bf92f3577b34da6a3ce929d0e0e4736-" +
		"00f067aa0ba902b7-01&region=eu-west&tenant=meridian-telco&schema=bss.event.v3"
)

// makeSKUPrices draws a log-uniform catalogue price in [2.00, 500.00] per SKU.
func makeSKUPrices(rng *rand.Rand) []int32 {
	p := make([]int32, numSKUs)
	for i := range p {
		cents := 200 * math.Exp(rng.Float64()*math.Log(250))
		c := int32(cents)
		if rng.IntN(2) == 0 && c > 300 {
			c = c/100*100 - 1 // x.99 pricing
		}
		p[i] = c
	}
	return p
}

func (g *Generator) pick(s []string) string { return s[g.rng.IntN(len(s))] }

func (g *Generator) sku() (uint64, int64) {
	n := g.skuZipf.Uint64()
	return n, int64(g.skuPrice[n])
}

// monthlyBill is a stable per-customer bill in cents.
func (g *Generator) monthlyBill(id uint64) int64 {
	return 1000 + int64(mix64(id^g.hashKey)%14000)
}

// writeAttrs writes the attrs object for kind, pads and closes the record.
func (g *Generator) writeAttrs(kind evKind, id uint64, evtMs int64) {
	g.j.open()
	if kind.isClick() {
		g.clickAttrs(kind)
		g.finish("ua", uaPad)
		return
	}
	g.bssAttrs(kind, id, evtMs)
	g.finish("ref", refPad)
}

func (g *Generator) clickAttrs(kind evKind) {
	j := &g.j
	switch kind {
	case kPageView:
		g.writeURL()
	case kProductView:
		g.skuAttrs()
	case kSearch:
		g.writeQuery()
	case kAddToCart:
		g.skuAttrs()
		j.int("qty", int64(1+g.rng.IntN(3)*g.rng.IntN(2)))
	case kAppOpen:
		j.raw("device", g.pick(devices))
	case kCheckoutStart:
		j.money("cart_value", g.basket())
	case kPurchase:
		j.id("order_id", "o-", g.seq)
		j.money("value", g.basket())
	}
}

func (g *Generator) skuAttrs() {
	n, price := g.sku()
	g.j.key("sku")
	g.j.b = append(strconv.AppendUint(append(g.j.b, `"SKU-`...), n, 10), '"')
	g.j.money("price", price)
}

// basket is the value of 1-4 catalogue items.
func (g *Generator) basket() int64 {
	var v int64
	for range 1 + g.rng.IntN(4) {
		_, p := g.sku()
		v += p
	}
	return v
}

// writeURL writes a storefront url, truncated to maxURLBytes.
func (g *Generator) writeURL() {
	j := &g.j
	j.key("url")
	j.b = append(j.b, `"https://shop.example.com`...)
	start := len(j.b)
	switch u := g.rng.IntN(10); {
	case u < 4:
		n, _ := g.sku()
		j.b = strconv.AppendUint(append(j.b, "/p/SKU-"...), n, 10)
	case u < 7:
		j.b = append(append(j.b, "/c/"...), g.pick(categories)...)
	case u < 8:
		j.b = append(append(j.b, "/help/"...), g.pick(helpTopics)...)
	case u < 9:
		j.b = strconv.AppendInt(append(j.b, "/deals?page="...), int64(1+g.rng.IntN(9)), 10)
	default:
		j.b = append(j.b, "/account/billing"...)
	}
	if g.rng.IntN(10) == 0 {
		j.b = append(j.b, "?utm_source=newsletter&utm_medium=email&utm_campaign="...)
		j.b = append(j.b, g.pick(campaigns)...)
	}
	j.b = append(j.b[:min(len(j.b), start+maxURLBytes)], '"')
}

// writeQuery writes a 1-3 word search query, truncated to maxQueryBytes.
func (g *Generator) writeQuery() {
	j := &g.j
	j.key("query")
	j.b = append(j.b, '"')
	start := len(j.b)
	for i := range 1 + g.rng.IntN(3) {
		if i > 0 {
			j.b = append(j.b, ' ')
		}
		j.b = append(j.b, g.pick(searchWords)...)
	}
	j.b = append(j.b[:min(len(j.b), start+maxQueryBytes)], '"')
}

func (g *Generator) bssAttrs(kind evKind, id uint64, evtMs int64) {
	j := &g.j
	switch kind {
	case kInvoiceIssued:
		g.invoice(id, evtMs)
		g.writeDueDate(evtMs)
	case kPaymentFailed:
		g.invoice(id, evtMs)
		j.raw("reason", g.pick(reasons))
	case kPaymentSucceeded:
		g.invoice(id, evtMs)
	case kPlanChanged:
		from := g.rng.IntN(len(planNames))
		to := (from + 1 + g.rng.IntN(len(planNames)-1)) % len(planNames)
		j.raw("from", planNames[from])
		j.raw("to", planNames[to])
		j.money("monthly_fee", planFees[to])
	case kUsageThreshold:
		j.raw("metric", g.pick(metrics))
		j.int("pct", pcts[g.rng.IntN(len(pcts))])
	case kTicketOpened:
		j.id("ticket_id", "t-", g.seq)
		j.raw("category", g.pick(ticketCat))
	case kConsentChanged:
		j.raw("channel", g.pick(channels))
		j.bool("granted", g.rng.IntN(3) != 0)
	case kProfileUpdated:
		g.profileAttrs(id)
	case kAccountOpened:
		j.raw("channel", g.pick(openChans))
	case kKYCSubmitted:
		j.raw("doc_type", g.pick(docTypes))
	case kOrderPlaced:
		j.id("order_id", "o-", g.seq)
		j.money("value", g.basket())
	}
}

// invoice writes the customer's invoice for the event's month and its amount.
func (g *Generator) invoice(id uint64, evtMs int64) {
	j := &g.j
	y, m, _ := time.UnixMilli(evtMs).UTC().Date()
	j.key("invoice_id")
	j.b = strconv.AppendUint(append(j.b, `"inv-`...), id, 36)
	j.b = strconv.AppendInt(append(j.b, '-'), int64(y*100+int(m)), 10)
	j.b = append(j.b, '"')
	j.money("amount", g.monthlyBill(id))
}

func (g *Generator) writeDueDate(evtMs int64) {
	y, m, d := time.UnixMilli(evtMs + 14*24*3600*1000).UTC().Date()
	g.j.key("due_date")
	g.j.b = append(appendDate(append(g.j.b, '"'), y, int(m), d), '"')
}

// profileAttrs writes a non-empty subset of the profile attributes.
func (g *Generator) profileAttrs(id uint64) {
	j := &g.j
	mask := 1 + g.rng.IntN(31)
	if mask&1 != 0 {
		j.raw("plan", g.pick(planNames))
	}
	if mask&2 != 0 {
		j.int("tenure_days", int64(mix64(id^g.hashKey>>1)%3650))
	}
	if mask&4 != 0 {
		j.raw("segment", g.pick(segments))
	}
	if mask&8 != 0 {
		j.raw("timezone", g.pick(timezones))
	}
	if mask&16 != 0 {
		j.raw("language", g.pick(languages))
	}
}
