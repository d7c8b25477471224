package api

// ledgerRoutes are the marketplace money: deliveries, refunds per
// fulfilment, the cooperatives' ledgers, statements and payouts.
func (s *Server) ledgerRoutes() []Route { return nil }
