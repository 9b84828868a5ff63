-- Argo CD health check for clickpipes.io/ClickPipe.
-- Install it as `resource.customizations.health.clickpipes.io_ClickPipe` in argocd-cm
-- (see application.yaml next to this file). Written for Argo CD's Lua 5.1 (gopher-lua).
--
--   Healthy      Ready is True and nothing is under way (or a one-shot pipe Completed)
--   Progressing  the operator has not seen this generation yet; Provisioning, Setup,
--                Snapshot; Running but not Ready yet; or Ready with the Progressing
--                condition True (a rollout or a catch-up on a backlog)
--   Degraded     phase Failed
--   Suspended    phase Stopped (spec.state: Stopped)

local hs = {}

local function condition(conditions, type)
  if conditions == nil then
    return nil
  end
  for _, c in ipairs(conditions) do
    if c.type == type then
      return c
    end
  end
  return nil
end

local function describe(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  if c ~= nil and c.reason ~= nil and c.reason ~= "" then
    return c.reason
  end
  return fallback
end

local status = obj.status
if status == nil or status.phase == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to pick up the pipe"
  return hs
end

local generation = obj.metadata.generation
if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to apply generation " .. tostring(generation)
  return hs
end

local phase = status.phase
local ready = condition(status.conditions, "Ready")
local progressing = condition(status.conditions, "Progressing")

if phase == "Failed" then
  hs.status = "Degraded"
  local lastError = status.errors ~= nil and status.errors.lastError or nil
  local fallback = "The pipe failed"
  if lastError ~= nil and lastError.message ~= nil then
    fallback = lastError.message
  end
  hs.message = describe(ready, fallback)
  return hs
end

if phase == "Stopped" then
  hs.status = "Suspended"
  hs.message = "The pipe is stopped (spec.state: Stopped)"
  return hs
end

if phase == "Completed" then
  hs.status = "Healthy"
  hs.message = describe(ready, "The pipe ingested everything it was given")
  return hs
end

if phase == "Provisioning" or phase == "Setup" or phase == "Snapshot" then
  hs.status = "Progressing"
  hs.message = describe(progressing, "Phase " .. phase)
  return hs
end

if ready ~= nil and ready.status == "True" then
  if progressing ~= nil and progressing.status == "True" then
    hs.status = "Progressing"
    hs.message = describe(progressing, "Rolling out or catching up")
    return hs
  end
  hs.status = "Healthy"
  hs.message = describe(ready, "Running")
  return hs
end

hs.status = "Progressing"
hs.message = describe(ready, "Waiting for the pipe to become Ready")
return hs
