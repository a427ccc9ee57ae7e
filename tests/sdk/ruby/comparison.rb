# frozen_string_literal: true

# Rails 7's `comparison:` validator, which the Ruby SDK 4.0.0 uses and Debian's ActiveModel 6.1
# lacks: loaded before the SDK, so the SDK itself runs unchanged. The same options and messages
# as ActiveModel 7's (equal_to, other_than, greater_than[_or_equal_to], less_than[_or_equal_to]).
require "active_model"

unless defined?(ActiveModel::Validations::ComparisonValidator)
  module ActiveModel
    module Validations
      class ComparisonValidator < EachValidator
        CHECKS = {
          greater_than: :>, greater_than_or_equal_to: :>=, equal_to: :==,
          less_than: :<, less_than_or_equal_to: :<=, other_than: :!=
        }.freeze

        def check_validity!
          return if (options.keys & CHECKS.keys).any?

          raise ArgumentError, "Expected one of :#{CHECKS.keys.join(', :')}"
        end

        def validate_each(record, attr_name, value)
          options.slice(*CHECKS.keys).each do |option, raw|
            expected = raw.respond_to?(:call) ? raw.call(record) : raw
            return record.errors.add(attr_name, :blank, value: value, count: expected) if value.blank?
            next if value.public_send(CHECKS[option], expected)

            record.errors.add(attr_name, option, value: value, count: expected)
          rescue ArgumentError => e
            record.errors.add(attr_name, e.message)
          end
        end
      end
    end
  end
end
