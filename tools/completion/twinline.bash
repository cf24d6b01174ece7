# bash completion for twinline (installed to share/bash-completion/completions).
# Completes verbs, each verb's options (read from `twinline VERB --help`, so
# they never drift from the binary), kinds for --kind, projections, formats,
# and files where a verb takes one.
_twinline() {
  local cur prev verb i
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD-1]}"
  local verbs="init append import export log entities date verify stats replay diff index backup serve replicate follow upgrade"
  verb=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "${COMP_WORDS[i]}" in
      --db|--log-level) ((i++)) ;;
      -*) ;;
      *) verb="${COMP_WORDS[i]}"; break ;;
    esac
  done
  case "$prev" in
    --db) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    --log-level) COMPREPLY=($(compgen -W "trace debug info warn error off" -- "$cur")); return ;;
    --kind)
      COMPREPLY=($(compgen -W "entity_registered partnership_established partnership_ended agreement_signed
        forum_held route_opened route_closed office_opened organisation_founded award_granted
        trade_volume_reported count_reported initiative_launched retraction amendment corroboration" -- "$cur"))
      return ;;
    --projection)
      if [[ "$verb" == diff ]]; then
        COMPREPLY=($(compgen -W "all counts trade network" -- "$cur"))
      else
        COMPREPLY=($(compgen -W "counts trade network timeline countries partners" -- "$cur"))
      fi
      return ;;
    --format) COMPREPLY=($(compgen -W "table json ndjson csv tsv graphml geojson gexf svg png" -- "$cur")); return ;;
    --edges) COMPREPLY=($(compgen -W "all partnerships routes" -- "$cur")); return ;;
    --layer) COMPREPLY=($(compgen -W "nodes edges" -- "$cur")); return ;;
    --step) COMPREPLY=($(compgen -W "year month" -- "$cur")); return ;;
    --dates) COMPREPLY=($(compgen -W "range earliest latest" -- "$cur")); return ;;
  esac
  if [[ -z "$verb" ]]; then
    COMPREPLY=($(compgen -W "$verbs --db --log-level --help --version" -- "$cur"))
    return
  fi
  if [[ "$cur" == -* ]]; then
    local opts
    opts=$(twinline "$verb" --help 2>/dev/null | grep -oE -- '--[a-z][a-z-]*' | sort -u)
    COMPREPLY=($(compgen -W "$opts --db --log-level" -- "$cur"))
    return
  fi
  case "$verb" in
    import|backup) COMPREPLY=($(compgen -f -- "$cur")) ;;
  esac
}
complete -F _twinline twinline
