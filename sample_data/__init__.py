"""Sample-city generator: real county boundaries, synthetic townships, villages, grids and cases."""
