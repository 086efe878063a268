export {
  availabilityTopic,
  discoveryMessages,
  identificationMessages,
  type MqttMessage,
  roomOf,
  roomSlug,
  roomTopics,
  type TopicsConfig,
} from "./discovery.js";
export {
  type HomeAssistantConfig,
  HomeAssistantConfigSchema,
  homeAssistant,
  homeAssistantPlugin,
} from "./plugin.js";
