package api

// cartRoutes are the buyer's server-side cart.
func (s *Server) cartRoutes() []Route { return nil }
