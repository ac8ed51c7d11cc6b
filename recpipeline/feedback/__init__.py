"""Closing the loop: impressions and feedback landing + data quality, attribution, online metrics, feedback into
training, dismissals, the online gate and the closed-loop simulation (`simulate`). See sql/migrations/014."""
