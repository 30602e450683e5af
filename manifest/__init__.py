"""The app manifest templates (slack/manifest.yaml, teams/manifest.json and the Teams icons), shipped as
package data so `rflow manifest` finds them in an installed wheel; bot/manifests.py reads them."""
